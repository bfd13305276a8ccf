# Written by hnet-eval; re-run with: gnuplot paths.gp
set terminal pngcairo size 1400,540 font 'sans,10'
set output 'paths.png'
set datafile separator ','
set multiplot layout 2,5 title 'Test accuracy (%) along paths: solid interpolated z, dashed direct, dotted direct after gauge fixing'
unset key
set yrange [0:100]
set xrange [0:1]
set xtics 0.5
set grid
set title 'pair 1'
plot '../data/paths.csv' skip 1 u 2:($1==1?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==1?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==1?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 2'
plot '../data/paths.csv' skip 1 u 2:($1==2?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==2?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==2?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 3'
plot '../data/paths.csv' skip 1 u 2:($1==3?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==3?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==3?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 4'
plot '../data/paths.csv' skip 1 u 2:($1==4?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==4?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==4?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 5'
plot '../data/paths.csv' skip 1 u 2:($1==5?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==5?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==5?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 6'
plot '../data/paths.csv' skip 1 u 2:($1==6?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==6?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==6?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 7'
plot '../data/paths.csv' skip 1 u 2:($1==7?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==7?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==7?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 8'
plot '../data/paths.csv' skip 1 u 2:($1==8?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==8?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==8?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 9'
plot '../data/paths.csv' skip 1 u 2:($1==9?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==9?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==9?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
set title 'pair 10'
plot '../data/paths.csv' skip 1 u 2:($1==10?100*$3:1/0) w l lw 2 lc rgb '#3060c0', '../data/paths.csv' skip 1 u 2:($1==10?100*$4:1/0) w l dt 2 lw 2 lc rgb '#c03030', '../data/paths.csv' skip 1 u 2:($1==10?100*$5:1/0) w l dt 3 lw 2 lc rgb '#30a030'
unset multiplot

unset output
