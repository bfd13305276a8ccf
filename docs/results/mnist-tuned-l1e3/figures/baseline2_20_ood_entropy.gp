# Written by hnet-eval; re-run with: gnuplot baseline2_20_ood_entropy.gp
set terminal pngcairo size 700,450 font 'sans,10'
set output 'baseline2_20_ood_entropy.png'
set datafile separator ','
set title 'deep ensemble (20): entropy of the mean prediction'
set xlabel 'entropy (nats)'
set ylabel 'fraction of images'
set logscale y
set key top right
set grid
set style fill transparent solid 0.4 noborder
plot '../data/baseline2_20_ood_entropy.csv' skip 1 u 1:($2>0?$2:1/0) w boxes lc rgb '#3060c0' t 'MNIST', '../data/baseline2_20_ood_entropy.csv' skip 1 u 1:($3>0?$3:1/0) w boxes lc rgb '#c03030' t 'Fashion-MNIST'

unset output
