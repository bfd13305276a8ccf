# Written by hnet-eval; re-run with: gnuplot toy.gp
set terminal pngcairo size 1300,600 font 'sans,10'
set output 'toy.png'
set datafile separator ','
set multiplot layout 1,2 title 'Toy problem: 400 generated points for z uniformly spaced in [-1, 1]'
set title '(a) generated points over the mixture'
set size ratio -1
unset key
set xrange [-7:7]
set yrange [-7:7]
set palette gray negative
set cblabel 'mixture value'
plot '../data/toy_mixture.csv' skip 1 u 1:2:3 w image, '../data/toy_path.csv' skip 1 u 2:3:6 w p pt 7 ps 0.6 lc rgb variable
set size noratio
set autoscale
unset cblabel
unset colorbox
set title '(b) along the path'
set xlabel 'z'
set ylabel 'mixture value'
set y2label 'distance to nearest neighbour'
set ytics nomirror
set y2tics
set key top left
plot '../data/toy_path.csv' skip 1 u 1:4:6 w p pt 7 ps 0.5 lc rgb variable t 'mixture value', '../data/toy_path.csv' skip 1 u 1:5 axes x1y2 w l dt 2 lc rgb 'black' t 'nearest-neighbour distance'
unset multiplot

unset output
