# Written by hnet-eval; re-run with: gnuplot baseline1_20_accuracy_histogram.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'baseline1_20_accuracy_histogram.png'
set datafile separator ','
set title 'Test accuracy of the 20 members of the deep ensemble (20, shifts 2 px)'
set xlabel 'test accuracy (%)'
set ylabel 'networks'
set style fill solid 0.6 border -1
unset key
set boxwidth 0.0366
plot '../data/baseline1_20_accuracy_histogram.csv' skip 1 u (100*$3):4 w boxes lc rgb '#3060c0'

unset output
