package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/ddbocc/ddbocc/bench/internal/hotrec"
)

// printTable writes one table per shape: commits/s as the median over
// rounds with its min..max, the rest pooled over rounds (shares as medians
// over rounds). The 1-goroutine shape also gets wall time and allocations
// per commit.
func printTable(w io.Writer, sums []hotrec.Summary) error {
	var shapeOrder []string
	byShape := map[string][]hotrec.Summary{}
	for _, s := range sums {
		if _, ok := byShape[s.Shape]; !ok {
			shapeOrder = append(shapeOrder, s.Shape)
		}
		byShape[s.Shape] = append(byShape[s.Shape], s)
	}
	for i, id := range shapeOrder {
		ss := byShape[id]
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "shape %s: %s, %d round(s)\n", id, ss[0].ShapeDesc, ss[0].Rounds)
		single := ss[0].Procs*ss[0].Goroutines == 1
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "contender\tcommits/s\tmin..max\tx best\treq/commit\tconfl/commit\tproc share\tg share\tp50 ms\tp99 ms\tfailed\t"
		if single {
			head += "us/commit\tallocs/commit\t"
		}
		fmt.Fprintln(tw, head+"check\t")
		var best float64 = math.NaN()
		for _, s := range ss {
			if s.Contender == "best" {
				best = s.Rate.Median
			}
		}
		for _, s := range ss {
			check := "ok"
			if len(s.Problems) > 0 {
				check = "BAD " + strings.Join(s.Problems, "; ")
			}
			line := fmt.Sprintf("%s\t%.0f\t%.0f..%.0f\t%s\t%.2f\t%.2f\t%s\t%s\t%.2f\t%.2f\t%d\t",
				s.Contender, s.Rate.Median, s.Rate.Min, s.Rate.Max, ratio(s.Rate.Median, best),
				s.RequestsPerCommit, s.ConflictsPerCommit,
				span(s.ProcShareMin, s.ProcShareMax), span(s.GorShareMin, s.GorShareMax),
				s.P50, s.P99, s.Failed)
			if single {
				line += fmt.Sprintf("%.0f\t%.0f\t", s.WallPerCommit.Median, s.AllocsPerCommit.Median)
			}
			fmt.Fprintln(tw, line+check+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func ratio(x, best float64) string {
	if math.IsNaN(best) || best == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x/best)
}

func span(lo, hi float64) string {
	if math.IsNaN(lo) {
		return "-"
	}
	return fmt.Sprintf("%.2f..%.2f", lo, hi)
}
