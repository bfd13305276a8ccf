# Written by hnet-eval; re-run with: gnuplot hypernet_reliability.gp
set terminal pngcairo size 600,550 font 'sans,10'
set output 'hypernet_reliability.png'
set datafile separator ','
set title 'generated networks: reliability diagram (15 bins)'
set xlabel 'confidence'
set ylabel 'accuracy'
set xrange [0:1]
set yrange [0:1]
set key top left
set grid
set size ratio -1
plot x w l dt 2 lc rgb 'gray50' t 'perfect calibration', '../data/hypernet_reliability.csv' skip 1 u 4:5 w lp pt 7 lc rgb '#c03030' t 'single member', '../data/hypernet_reliability.csv' skip 1 u 7:8 w lp pt 5 lc rgb '#3060c0' t 'ensemble of 100'

unset output
