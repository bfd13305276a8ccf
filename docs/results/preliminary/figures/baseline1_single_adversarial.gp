# Written by hnet-eval; re-run with: gnuplot baseline1_single_adversarial.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'baseline1_single_adversarial.png'
set datafile separator ','
set title 'single trained network: targeted fast gradient sign attack'
set xlabel 'perturbation (fraction of the 8-bit range)'
set ylabel 'success probability'
set yrange [0:1]
set key top left
set grid
plot '../data/baseline1_single_adversarial.csv' skip 1 u 2:3 w lp dt 2 lc rgb '#c03030' t 'single network'

unset output
