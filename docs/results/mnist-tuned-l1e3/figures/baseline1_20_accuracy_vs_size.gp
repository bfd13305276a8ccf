# Written by hnet-eval; re-run with: gnuplot baseline1_20_accuracy_vs_size.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'baseline1_20_accuracy_vs_size.png'
set datafile separator ','
set title 'deep ensemble (20, shifts 2 px): accuracy vs ensemble size'
set xlabel 'ensemble size'
set ylabel 'test accuracy (%)'
set logscale x
set key bottom right
set grid
set xrange [0.8:26]
plot 99.14 w l dt 2 lc rgb 'gray40' t 'paper 99.14 %', 99.28 w l dt 3 lc rgb 'gray60' t 'MNFG 99.28 %', '../data/baseline1_20_accuracy_vs_size.csv' skip 1 u 1:(100*$2):(100*$3) w yerrorlines lc rgb '#3060c0' t 'majority vote', '../data/baseline1_20_accuracy_vs_size.csv' skip 1 u 1:(100*$4):(100*$5) w yerrorlines lc rgb '#c03030' t 'mean probability', '../data/baseline1_20_accuracy_vs_size.csv' skip 1 u 1:(100*$6):(100*$7) w yerrorlines lc rgb '#30a030' t 'most confident'

unset output
