package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/services"
)

// UpOptions are the inputs of `delab up`.
type UpOptions struct {
	IO       *IOStreams
	Factory  *Factory
	Services []catalog.Service
}

// NewCmdUp builds `delab up`.
func NewCmdUp(f *Factory, runF func(context.Context, *UpOptions) error) *cobra.Command {
	opts := &UpOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "up [kafka|hdfs|spark]...",
		Short: "Start services and keep them running between checks",
		Long: `Start Kafka, HDFS and Spark (or the ones named) in Docker and keep them
running, so that every check reuses them instead of starting its own:
a check against warm services takes seconds. Stop them with delab down.`,
		ValidArgs: []string{"kafka", "hdfs", "spark"},
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				switch s := catalog.Service(strings.ToLower(a)); s {
				case catalog.Kafka, catalog.HDFS, catalog.Spark:
					opts.Services = append(opts.Services, s)
				default:
					return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown service %q (kafka, hdfs or spark)", a)}
				}
			}
			if len(opts.Services) == 0 {
				opts.Services = []catalog.Service{catalog.Kafka, catalog.HDFS, catalog.Spark}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return upRun(cmd.Context(), opts)
		},
	}
}

func upRun(ctx context.Context, opts *UpOptions) error {
	f := opts.Factory
	if err := services.CheckDocker(ctx); err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("%w\nrun %s for details", err, cmdline("doctor"))}
	}
	f.sweepLeftovers(ctx)
	images := f.Images()
	for _, s := range opts.Services {
		fmt.Fprintf(opts.IO.ErrOut, "starting %s (%s)…\n", s, images.Of(s))
	}
	st, err := services.Start(ctx, opts.Services, services.StackOptions{Images: images, Warm: true})
	for _, r := range st.Replaced {
		fmt.Fprintf(opts.IO.ErrOut, "removed %s: an older delab started it from another definition\n", r)
	}
	if err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("%w\n(%s removes what did start)", err, cmdline("down"))}
	}
	w := opts.IO.Out
	e := st.Endpoints()
	fmt.Fprintf(w, "Services are up and stay up until %s:\n", cmdline("down"))
	if st.Kafka != nil {
		fmt.Fprintf(w, "  kafka  brokers %s (from containers: %s)  %s\n", strings.Join(e.KafkaBrokers, ","), services.KafkaInternalBroker, dur(st, catalog.Kafka))
	}
	if st.HDFS != nil {
		var dn []string
		for p, a := range e.HDFSDataNodes {
			dn = append(dn, fmt.Sprintf("%d→%s", p, a))
		}
		sort.Strings(dn)
		fmt.Fprintf(w, "  hdfs   namenode %s (from containers: %s), web UI %s, datanodes %s  %s\n", e.HDFSNameNode, services.HDFSNameNodeURI, e.HDFSWebUI, strings.Join(dn, " "), dur(st, catalog.HDFS))
	}
	if st.Spark != nil {
		fmt.Fprintf(w, "  spark  thrift (HiveServer2) %s, UI and REST API %s  %s\n", e.SparkThrift, e.SparkUI, dur(st, catalog.Spark))
	}
	return nil
}

func dur(st *services.Stack, s catalog.Service) string {
	return fmt.Sprintf("(ready in %.1fs)", st.StartDurations[s].Seconds())
}
