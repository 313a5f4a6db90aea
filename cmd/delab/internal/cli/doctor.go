package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"github.com/testcontainers/testcontainers-go"

	"github.com/delab-dev/delab/checker/services"
)

// DoctorOptions are the inputs of `delab doctor`.
type DoctorOptions struct {
	IO      *IOStreams
	Factory *Factory
	// Engine asks the Docker engine for its version, a real API call, and
	// describes it; nil skips this check. NewCmdDoctor sets dockerEngine.
	Engine func(context.Context) (string, error)
	// Diagnose runs the other checks; services.Diagnose when nil.
	Diagnose func(context.Context, services.Images) []services.Finding
}

// NewCmdDoctor builds `delab doctor`.
func NewCmdDoctor(f *Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{IO: f.IO, Factory: f, Engine: dockerEngine}
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run the service labs",
		Long: `Check Docker (a real call to the engine the docker CLI would use:
DOCKER_HOST, or the local one), the service images, free memory and disk,
and warm services, with a remedy for each problem. Exit status 1 when a
problem was found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
}

func doctorRun(ctx context.Context, opts *DoctorOptions) error {
	diagnose := opts.Diagnose
	if diagnose == nil {
		diagnose = services.Diagnose
	}
	st := newStyle(opts.IO.Color)
	problems := 0
	print := func(fd services.Finding) {
		fd.Detail, fd.Remedy = runnableCommands(fd.Detail, commandPrefix()), runnableCommands(fd.Remedy, commandPrefix())
		mark := st.paint("32", "✓")
		if !fd.OK {
			mark = st.paint("31", "✗")
			problems++
		}
		width := textWidth(opts.IO)
		fmt.Fprintf(opts.IO.Out, "%s %-18s %s\n", mark, fd.Check, wrapFrom(fd.Detail, 21, width, strings.Repeat(" ", 21)))
		if fd.Remedy != "" {
			fmt.Fprintf(opts.IO.Out, "  %s %s\n", st.dim("→"), wrapFrom(fd.Remedy, 4, width, "    "))
		}
	}
	engineChecked := false
	if opts.Engine != nil {
		desc, err := opts.Engine(ctx)
		if err != nil {
			print(services.Finding{Check: "Docker engine", Detail: err.Error(), Remedy: dockerRemedy(err)})
			fmt.Fprintln(opts.IO.Out, "\n"+wrapText("Images, memory and disk are checked once Docker answers. The start and serialization tracks work without it.", textWidth(opts.IO), ""))
			return errChecksFailed
		}
		print(services.Finding{Check: "Docker engine", OK: true, Detail: desc})
		engineChecked = true
	}
	for _, fd := range diagnose(ctx, opts.Factory.Images()) {
		if engineChecked && fd.OK && fd.Check == "Docker engine" {
			fd.Check = "Docker resources" // the engine itself was reported above
		}
		print(fd)
	}
	if problems > 0 {
		fmt.Fprintf(opts.IO.Out, "\n%d problem(s) found. The start track works without Docker.\n", problems)
		return errChecksFailed
	}
	fmt.Fprintln(opts.IO.Out, "\nAll set for every track.")
	return nil
}

// dockerEngine pings the Docker engine the docker CLI would use and asks
// for its version: DOCKER_HOST when it is set (delab's container library
// would quietly fall back to the local socket, and then doctor would
// vouch for an engine the docker CLI cannot reach), else the engine that
// library finds (the local socket, a rootless one, or one named in
// ~/.testcontainers.properties).
func dockerEngine(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var cli *client.Client
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		c, err := client.New(client.FromEnv)
		if err != nil {
			return "", fmt.Errorf("DOCKER_HOST=%s: %w", host, err)
		}
		cli = c
	} else {
		services.Prepare()
		c, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return "", err
		}
		cli = c.Client
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return "", fmt.Errorf("no answer from %s: %w", cli.DaemonHost(), err)
	}
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", fmt.Errorf("%s answered a ping but not a version request: %w", cli.DaemonHost(), err)
	}
	name := v.Platform.Name
	if name == "" {
		name = "Docker Engine"
	}
	return fmt.Sprintf("%s %s (API %s) at %s", name, v.Version, v.APIVersion, cli.DaemonHost()), nil
}

// dockerRemedy says what to do about a Docker engine that did not answer.
func dockerRemedy(err error) string {
	switch host := os.Getenv("DOCKER_HOST"); {
	case strings.Contains(err.Error(), "permission denied"):
		return "your user may not use the Docker socket: add it to the docker group (sudo usermod -aG docker $USER), then log in again"
	case host != "":
		return fmt.Sprintf("DOCKER_HOST is %s and no engine answers there: start that engine, or `unset DOCKER_HOST` to use the local one; `docker version` must show a Server section", host)
	}
	return "install Docker (Docker Desktop, or Debian's docker.io) and start it (sudo systemctl start docker); if it listens elsewhere, set DOCKER_HOST; `docker version` must show a Server section"
}
