package services

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/delab-dev/delab/checker/catalog"
)

// Session is one grading run's use of services.
type Session interface {
	// Endpoints are the services' addresses on this host.
	Endpoints() Endpoints
	// Health returns a *ServiceDiedError when a service stopped.
	Health(ctx context.Context) error
	// Release ends the use: ephemeral services are removed, warm ones kept.
	Release(ctx context.Context) error
	// Restart kills a service's main process as a crash would, keeps it
	// down for the given time, and waits until it runs again in the same
	// container: the checker's fault injection. The services whose
	// Definition has a restart support it: Kafka.
	Restart(ctx context.Context, svc catalog.Service, down time.Duration) error
	// StopNode kills node i of a service (HDFS: DataNode i, 0-based)
	// with SIGKILL, as a crash would, and returns once the service has
	// noticed (the NameNode declared it dead); the rest of the service
	// keeps running, and the node stays down until StartNode. StartNode
	// starts it again (same ports, same data) and returns once the
	// service counts it again; it does nothing to a running node. The
	// services whose Definition has stopNode support them: HDFS.
	StopNode(ctx context.Context, svc catalog.Service, i int) error
	StartNode(ctx context.Context, svc catalog.Service, i int) error
	// Exec runs a command in the service's container (its own tools:
	// "hdfs fsck /path -files -blocks -locations") and returns what it
	// printed, stdout and stderr, at most 1 MiB: with an error when it
	// could not run or exited non-zero.
	Exec(ctx context.Context, svc catalog.Service, cmd ...string) (string, error)
}

// Provider hands out sessions; the grading engine asks it for what a lab needs.
type Provider interface {
	Acquire(ctx context.Context, need []catalog.Service) (Session, error)
}

// Release removes an ephemeral stack; a warm one keeps running.
func (s *Stack) Release(ctx context.Context) error { return s.Terminate(ctx) }

// Docker is the Provider backed by a Docker engine. It uses warm services
// (`delab up`) when all the lab needs are running, and otherwise starts an
// ephemeral stack that Release removes.
type Docker struct {
	// Options apply to every stack it starts.
	Options StackOptions
	// Keep makes the first stack serve every later Acquire (test suites);
	// Close removes it. KeepAll, if set, is what that first stack runs.
	Keep    bool
	KeepAll []catalog.Service
	// Progress, if set, receives a line per stack started or reused.
	Progress func(string)

	mu   sync.Mutex
	kept *Stack
}

type keptSession struct{ *Stack }

func (keptSession) Release(context.Context) error { return nil }

// Acquire returns a session with the services in need running.
func (d *Docker) Acquire(ctx context.Context, need []catalog.Service) (Session, error) {
	if err := CheckDocker(ctx); err != nil {
		return nil, err
	}
	images := d.images()
	if d.Keep {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.kept == nil {
			want := need
			if len(d.KeepAll) > 0 {
				want = d.KeepAll
			}
			d.say("starting %s for this run", names(want, images))
			st, err := Start(ctx, want, d.Options)
			if err != nil {
				_ = st.Terminate(ctx)
				return nil, err
			}
			d.kept = st
		}
		return keptSession{d.kept}, nil
	}
	if warm, err := WarmRunning(ctx, images); err == nil && covers(warm, need) {
		opts := d.Options
		opts.Warm, opts.Images = true, images
		d.say("using warm %s", names(need, images))
		st, err := Start(ctx, need, opts)
		if err != nil {
			return nil, fmt.Errorf("attach to warm services (try `delab down`): %w", err)
		}
		return st, nil
	}
	d.say("starting %s (removed afterwards; `delab up` keeps them warm)", names(need, images))
	opts := d.Options
	opts.Images = images
	st, err := Start(ctx, need, opts)
	if err != nil {
		_ = st.Terminate(ctx)
		return nil, err
	}
	return st, nil
}

// images returns Options.Images, resolved from the environment once
// when the caller gave none.
func (d *Docker) images() Images {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.Options.Images) == 0 {
		d.Options.Images = ImagesFromEnv()
	}
	return d.Options.Images
}

// Close removes a kept stack.
func (d *Docker) Close(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.kept == nil {
		return nil
	}
	err := d.kept.Terminate(ctx)
	d.kept = nil
	return err
}

func (d *Docker) say(format string, args ...any) {
	if d.Progress != nil {
		d.Progress(fmt.Sprintf(format, args...))
	}
}

func names(s []catalog.Service, images Images) string {
	out := ""
	for i, x := range dedupe(s) {
		if i > 0 {
			out += ", "
		}
		out += string(x) + " (" + images.Of(x) + ")"
	}
	return out
}

func covers(have map[catalog.Service]bool, need []catalog.Service) bool {
	for _, s := range need {
		if !have[s] {
			return false
		}
	}
	return len(need) > 0
}

// WarmRunning reports which services have a running warm container for
// the given images.
func WarmRunning(ctx context.Context, images Images) (map[catalog.Service]bool, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", LabelWarm+"=true").Add("status", "running")})
	if err != nil {
		return nil, err
	}
	out := map[catalog.Service]bool{}
	for _, c := range list.Items {
		for _, d := range definitions {
			if slices.Contains(c.Names, "/"+WarmName(d.Name, images.Of(d.Name))) {
				out[d.Name] = true
			}
		}
	}
	return out, nil
}
