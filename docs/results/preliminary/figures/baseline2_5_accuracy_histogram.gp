# Written by hnet-eval; re-run with: gnuplot baseline2_5_accuracy_histogram.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'baseline2_5_accuracy_histogram.png'
set datafile separator ','
set title 'Test accuracy of the 5 members of the deep ensemble (5)'
set xlabel 'test accuracy (%)'
set ylabel 'networks'
set style fill solid 0.6 border -1
unset key
set boxwidth 0.0819
plot '../data/baseline2_5_accuracy_histogram.csv' skip 1 u (100*$3):4 w boxes lc rgb '#3060c0'

unset output
