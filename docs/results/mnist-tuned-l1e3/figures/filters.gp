# Written by hnet-eval; re-run with: gnuplot filters.gp
set terminal pngcairo size 900,900 font 'sans,10'
set output 'filters.png'
set datafile separator ','
set multiplot layout 2,2 title 'Generated filter slices (input channel 1), 25 samples each'
set datafile missing 'nan'
unset key
unset xtics
unset ytics
unset colorbox
set size ratio -1
set palette defined (-1 '#2040c0', 0 'white', 1 '#c02020')
set title 'layer 1, filter 1'
set cbrange [-2.4:2.4]
set yrange [*:*] reverse
plot '../data/filters_1.csv' matrix w image
set title 'layer 1, filter 2'
set cbrange [-3.05297:3.05297]
set yrange [*:*] reverse
plot '../data/filters_2.csv' matrix w image
set title 'layer 2, filter 1'
set cbrange [-0.65968:0.65968]
set yrange [*:*] reverse
plot '../data/filters_3.csv' matrix w image
set title 'layer 3, filter 1'
set cbrange [-3.3445:3.3445]
set yrange [*:*] reverse
plot '../data/filters_4.csv' matrix w image
unset multiplot

unset output
