// Command delab is a terminal sandbox for learning data engineering by
// doing it: read lessons, write Go in labs, and let the checker grade it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/delab-dev/delab/cmd/delab/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.SystemIO(), os.Args[1:])
	stop()
	os.Exit(code)
}
