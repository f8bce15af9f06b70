// Command hotplot draws the JSON lines written by bench/hot as PNGs: per
// shape, commits/s per contender (median, min..max over rounds),
// requests and conflicts per commit, the latency CDF, and for shapes of
// several processes each process's share of the commits; across the key
// counts of shape c, commits/s by keys. See bench/README.md.
//
//	cd bench && go run ./hotplot -in results/hot.jsonl -dir results/plots
package main

import (
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ddbocc/ddbocc/bench/internal/hotrec"
)

func main() {
	in := flag.String("in", "results/hot.jsonl", "JSON lines written by bench/hot")
	dir := flag.String("dir", "results/plots", "directory for the PNGs")
	flag.Parse()
	files, err := run(*in, *dir)
	for _, f := range files {
		fmt.Println(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotplot:", err)
		os.Exit(1)
	}
}

func run(in, dir string) ([]string, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	meta, rounds, err := hotrec.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if len(rounds) == 0 {
		return nil, fmt.Errorf("%s: no rounds", in)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return plotAll(meta, rounds, dir)
}

// plotAll writes every plot of rounds into dir and returns their paths.
func plotAll(meta hotrec.Meta, rounds []hotrec.Round, dir string) ([]string, error) {
	d := drawer{dir: dir, colors: map[string]color.Color{}}
	order := meta.Contenders
	for _, s := range hotrec.Summarize(rounds) {
		if !slices.Contains(order, s.Contender) {
			order = append(order, s.Contender)
		}
	}
	for i, c := range order {
		d.colors[c] = palette[i%len(palette)]
	}
	var shapeIDs []string
	byShape := map[string][]hotrec.Summary{}
	roundsByShape := map[string][]hotrec.Round{}
	for _, s := range hotrec.Summarize(rounds) {
		if _, ok := byShape[s.Shape]; !ok {
			shapeIDs = append(shapeIDs, s.Shape)
		}
		byShape[s.Shape] = append(byShape[s.Shape], s)
	}
	for _, r := range rounds {
		roundsByShape[r.Shape] = append(roundsByShape[r.Shape], r)
	}
	var errs []error
	for _, id := range shapeIDs {
		ss := byShape[id]
		errs = append(errs, d.commits(id, ss), d.requests(id, ss), d.latency(id, ss))
		if ss[0].Procs > 1 {
			errs = append(errs, d.shares(id, ss, roundsByShape[id]))
		}
	}
	var cs []hotrec.Summary
	for _, id := range shapeIDs {
		if strings.HasPrefix(id, "c") {
			cs = append(cs, byShape[id]...)
		}
	}
	if len(cs) > 0 {
		errs = append(errs, d.byKeys(cs, order))
	}
	return d.files, errors.Join(errs...)
}

// palette: Okabe and Ito's colours, told apart by colour-blind readers too;
// in the order of bench/hot's contenders (add grey, ddbocc green, ...).
var palette = []color.Color{
	color.RGBA{0x66, 0x66, 0x66, 0xff}, // grey
	color.RGBA{0x00, 0x9e, 0x73, 0xff}, // bluish green
	color.RGBA{0x56, 0xb4, 0xe9, 0xff}, // sky blue
	color.RGBA{0xe6, 0x9f, 0x00, 0xff}, // orange
	color.RGBA{0x00, 0x72, 0xb2, 0xff}, // blue
	color.RGBA{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	color.RGBA{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
}

type drawer struct {
	dir    string
	colors map[string]color.Color
	files  []string
}

func (d *drawer) save(p *plot.Plot, name string) error {
	path := filepath.Join(d.dir, name)
	if err := p.Save(20*vg.Centimeter, 12*vg.Centimeter, path); err != nil {
		return err
	}
	d.files = append(d.files, path)
	return nil
}

func title(s hotrec.Summary, what string) string {
	return fmt.Sprintf("shape %s: %s\n%s", s.Shape, s.ShapeDesc, what)
}

func names(ss []hotrec.Summary) []string {
	var ns []string
	for _, s := range ss {
		ns = append(ns, s.Contender)
	}
	return ns
}

// bars returns one bar per value, coloured per contender.
func (d *drawer) bars(p *plot.Plot, ss []hotrec.Summary, value func(hotrec.Summary) float64, width vg.Length, offset vg.Length) error {
	for i, s := range ss {
		v := value(s)
		if math.IsNaN(v) {
			v = 0
		}
		b, err := plotter.NewBarChart(plotter.Values{v}, width)
		if err != nil {
			return err
		}
		b.XMin, b.Offset, b.Color = float64(i), offset, d.colors[s.Contender]
		b.LineStyle.Width = 0
		p.Add(b)
	}
	return nil
}

// commits: median commits/s per contender, whiskers from min to max.
func (d *drawer) commits(id string, ss []hotrec.Summary) error {
	p := plot.New()
	p.Title.Text = title(ss[0], fmt.Sprintf("commits/s: median of %d round(s), whiskers min..max", ss[0].Rounds))
	p.Y.Label.Text = "commits/s"
	if err := d.bars(p, ss, func(s hotrec.Summary) float64 { return s.Rate.Median }, vg.Centimeter, 0); err != nil {
		return err
	}
	var pts struct {
		plotter.XYs
		plotter.YErrors
	}
	var labels plotter.XYLabels
	top := 0.0
	for i, s := range ss {
		pts.XYs = append(pts.XYs, plotter.XY{X: float64(i), Y: s.Rate.Median})
		pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{s.Rate.Median - s.Rate.Min, s.Rate.Max - s.Rate.Median})
		labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: s.Rate.Max})
		labels.Labels = append(labels.Labels, fmt.Sprintf("%.0f", s.Rate.Median))
		top = max(top, s.Rate.Max)
	}
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return err
	}
	lb, err := barLabels(labels, vg.Point{Y: vg.Points(3)})
	if err != nil {
		return err
	}
	p.Add(eb, lb)
	p.Y.Min, p.Y.Max = 0, top*1.12
	p.NominalX(names(ss)...)
	return d.save(p, id+"-commits.png")
}

// requests: requests and ConditionalCheckFailed answers per commit.
func (d *drawer) requests(id string, ss []hotrec.Summary) error {
	p := plot.New()
	p.Title.Text = title(ss[0], "per commit: requests (solid), conflicts (light)")
	p.Y.Label.Text = "per commit"
	w := 0.8 * vg.Centimeter
	if err := d.bars(p, ss, func(s hotrec.Summary) float64 { return s.RequestsPerCommit }, w, -w/2); err != nil {
		return err
	}
	light := *d
	light.colors = map[string]color.Color{}
	for c, col := range d.colors {
		r, g, b, _ := col.RGBA()
		light.colors[c] = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0x60}
	}
	if err := light.bars(p, ss, func(s hotrec.Summary) float64 { return s.ConflictsPerCommit }, w, w/2); err != nil {
		return err
	}
	var labels plotter.XYLabels
	for i, s := range ss {
		labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: s.RequestsPerCommit})
		labels.Labels = append(labels.Labels, fmt.Sprintf("%.2f", s.RequestsPerCommit))
	}
	lb, err := barLabels(labels, vg.Point{X: -w / 2, Y: vg.Points(3)})
	if err != nil {
		return err
	}
	p.Add(lb)
	p.Y.Min = 0
	p.Y.Max *= 1.1
	p.Add(plotter.NewGrid())
	p.NominalX(names(ss)...)
	return d.save(p, id+"-requests.png")
}

// latency: the CDF of call latency per contender, all rounds pooled, on a
// log scale.
func (d *drawer) latency(id string, ss []hotrec.Summary) error {
	p := plot.New()
	p.Title.Text = title(ss[0], "latency of a committed call, CDF (all rounds)")
	p.X.Label.Text = "ms (log)"
	p.Y.Label.Text = "fraction of calls"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	for _, s := range ss {
		lat := s.Latency
		if len(lat) == 0 {
			continue
		}
		const points = 500
		var xys plotter.XYs
		for k := range min(points, len(lat)) {
			i := k * (len(lat) - 1) / max(1, min(points, len(lat))-1)
			xys = append(xys, plotter.XY{X: math.Max(float64(lat[i]), 1) / 1e3, Y: float64(i+1) / float64(len(lat))})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = d.colors[s.Contender], vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (p50 %.1f, p99 %.1f ms)", s.Contender, s.P50, s.P99), l)
	}
	p.Legend.Top, p.Legend.Left = false, false // slow and rare: usually empty
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(5), vg.Points(5)
	p.Y.Min, p.Y.Max = 0, 1
	return d.save(p, id+"-latency.png")
}

// shares: each process's share of the commits, processes ranked from the
// busiest, medians over rounds; the line is a fair share.
func (d *drawer) shares(id string, ss []hotrec.Summary, rounds []hotrec.Round) error {
	procs := ss[0].Procs
	p := plot.New()
	p.Title.Text = title(ss[0], "each process's share of the commits, busiest first (median over rounds)")
	p.Y.Label.Text = "share of commits"
	w := vg.Centimeter * 2.4 / vg.Length(procs)
	for i, s := range ss {
		ranked := make([][]float64, procs) // ranked[k]: the k-th busiest process's share, per round
		for _, r := range rounds {
			if r.Contender != s.Contender || r.Commits == 0 || len(r.ProcCommits) != procs {
				continue
			}
			pc := slices.Clone(r.ProcCommits)
			slices.Sort(pc)
			slices.Reverse(pc)
			for k, c := range pc {
				ranked[k] = append(ranked[k], float64(c)/float64(r.Commits))
			}
		}
		for k := range procs {
			v := median(ranked[k])
			b, err := plotter.NewBarChart(plotter.Values{v}, w*0.9)
			if err != nil {
				return err
			}
			b.XMin, b.Color = float64(i), d.colors[s.Contender]
			b.Offset = w * (vg.Length(k) - vg.Length(procs-1)/2)
			b.LineStyle.Width = 0
			p.Add(b)
		}
	}
	fair, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1 / float64(procs)}, {X: float64(len(ss)) - 0.5, Y: 1 / float64(procs)}})
	if err != nil {
		return err
	}
	fair.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(fair)
	p.Legend.Add(fmt.Sprintf("fair: 1/%d", procs), fair)
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1
	p.NominalX(names(ss)...)
	return d.save(p, id+"-share.png")
}

// byKeys: commits/s against the number of keys of shape c, per contender.
func (d *drawer) byKeys(cs []hotrec.Summary, order []string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("shape c: %d goroutines over k keys\ncommits/s (median over rounds)", cs[0].Goroutines)
	p.X.Label.Text = "keys (log)"
	p.Y.Label.Text = "commits/s (log)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	lowest := math.Inf(1)
	for _, c := range order {
		var xys plotter.XYs
		for _, s := range cs {
			if s.Contender == c && s.Rate.Median > 0 {
				xys = append(xys, plotter.XY{X: float64(s.Keys), Y: s.Rate.Median})
				lowest = min(lowest, s.Rate.Median)
			}
		}
		if len(xys) == 0 {
			continue
		}
		slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, pts.Color, l.Width = d.colors[c], d.colors[c], vg.Points(1.5)
		p.Add(l, pts)
		p.Legend.Add(c, l, pts)
	}
	if !math.IsInf(lowest, 1) {
		p.Y.Min = lowest / 8 // room for the legend below the lines
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(5), vg.Points(5)
	return d.save(p, "c-keys.png")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// barLabels are value labels centred above bars, moved by offset.
func barLabels(labels plotter.XYLabels, offset vg.Point) (*plotter.Labels, error) {
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = -0.5
		lb.TextStyle[i].YAlign = 0
	}
	lb.Offset = offset
	return lb, nil
}
