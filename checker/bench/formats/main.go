// Command formats prints the format comparison of the lab
// serialization/04-format-shootout, measured on this machine by the
// reference solution over the checker's own data set.
//
//	go run ./checker/bench/formats [-seed 1] [-rounds 9]
package main

import (
	"flag"
	"fmt"
	"os"

	formatshootout "github.com/delab-dev/delab/checker/labs/serialization/04-format-shootout"
	reference "github.com/delab-dev/delab/checker/labs/serialization/04-format-shootout/solution"
)

func main() {
	seed := flag.Uint64("seed", 1, "seed of the data set (the checker uses a random one)")
	rounds := flag.Int("rounds", 9, "rounds per format; the median is reported")
	flag.Parse()
	if err := run(*seed, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "formats:", err)
		os.Exit(1)
	}
}

func run(seed uint64, rounds int) error {
	dir, err := os.MkdirTemp("", "delab-formats-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rs := formatshootout.Data(seed)
	results, err := reference.Measure(dir, rs, rounds)
	if err != nil {
		return err
	}
	fmt.Printf("%d readings, median of %d rounds, reference solution\n\n", len(rs), rounds)
	return reference.Render(os.Stdout, results)
}
