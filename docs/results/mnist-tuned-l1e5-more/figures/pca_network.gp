# Written by hnet-eval; re-run with: gnuplot pca_network.gp
set terminal pngcairo size 900,560 font 'sans,10'
set output 'pca_network.png'
set datafile separator ','
set multiplot layout 2,3 title 'PCA of generated weights: whole network'
unset key
set format x ''
set format y ''
set title '(1, 2)'
plot '../data/pca_network.csv' skip 1 u 1:2 w p pt 7 ps 0.4 lc rgb '#3060c0'
set title '(1, 3)'
plot '../data/pca_network.csv' skip 1 u 1:3 w p pt 7 ps 0.4 lc rgb '#3060c0'
set title '(1, 4)'
plot '../data/pca_network.csv' skip 1 u 1:4 w p pt 7 ps 0.4 lc rgb '#3060c0'
set title '(2, 3)'
plot '../data/pca_network.csv' skip 1 u 2:3 w p pt 7 ps 0.4 lc rgb '#3060c0'
set title '(2, 4)'
plot '../data/pca_network.csv' skip 1 u 2:4 w p pt 7 ps 0.4 lc rgb '#3060c0'
set title '(3, 4)'
plot '../data/pca_network.csv' skip 1 u 3:4 w p pt 7 ps 0.4 lc rgb '#3060c0'
unset multiplot

unset output
