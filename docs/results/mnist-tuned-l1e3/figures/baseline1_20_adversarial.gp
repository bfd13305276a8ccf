# Written by hnet-eval; re-run with: gnuplot baseline1_20_adversarial.gp
set terminal pngcairo size 800,500 font 'sans,10'
set output 'baseline1_20_adversarial.png'
set datafile separator ','
set title 'deep ensemble (20, shifts 2 px): targeted fast gradient sign attack'
set xlabel 'perturbation (fraction of the 8-bit range)'
set ylabel 'success probability'
set yrange [0:1]
set key top left
set grid
plot '../data/baseline1_20_adversarial.csv' skip 1 u 2:3 w lp dt 2 lc rgb '#c03030' t 'single network', '../data/baseline1_20_adversarial.csv' skip 1 u 2:5 w lp lc rgb '#3060c0' t 'ensemble of 19 (transfer)', '../data/baseline1_20_adversarial.csv' skip 1 u 2:7 w lp lc rgb '#30a030' t 'ensemble (white-box)'

unset output
