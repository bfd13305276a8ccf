# Written by hnet-eval; re-run with: gnuplot hypernet_accuracy_histogram.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'hypernet_accuracy_histogram.png'
set datafile separator ','
set title 'Test accuracy of 1000 generated networks (lambda = 1000)'
set xlabel 'test accuracy (%)'
set ylabel 'networks'
set style fill solid 0.6 border -1
unset key
set boxwidth 0.0255
plot '../data/hypernet_accuracy_histogram.csv' skip 1 u (100*$3):4 w boxes lc rgb '#3060c0'

unset output
