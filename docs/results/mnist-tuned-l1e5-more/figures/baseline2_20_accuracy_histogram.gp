# Written by hnet-eval; re-run with: gnuplot baseline2_20_accuracy_histogram.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'baseline2_20_accuracy_histogram.png'
set datafile separator ','
set title 'Test accuracy of the 20 members of the deep ensemble (20)'
set xlabel 'test accuracy (%)'
set ylabel 'networks'
set style fill solid 0.6 border -1
unset key
set boxwidth 0.7677
plot '../data/baseline2_20_accuracy_histogram.csv' skip 1 u (100*$3):4 w boxes lc rgb '#3060c0'

unset output
