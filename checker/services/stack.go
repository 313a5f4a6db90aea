package services

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/endpoints"
)

// Stack is the set of services one grading run (or `delab up`) uses, on
// one Docker network so that they reach each other by alias.
type Stack struct {
	// Network is the Docker network's name.
	Network string
	// Kafka, HDFS and Spark are the services started, typed for callers
	// that use one directly; nil for a service the stack does not run.
	Kafka *KafkaContainer
	HDFS  *HDFSContainer
	Spark *SparkContainer
	// Warm stacks were started by `delab up` and outlive this process.
	Warm bool
	// StartDurations records how long each service took to become ready.
	StartDurations map[catalog.Service]time.Duration
	// Replaced names the outdated warm containers (an older definition or
	// image) that a warm Start removed before it started their successors.
	Replaced []string

	ownNetwork *testcontainers.DockerNetwork
	// running holds the services that have a container, by name.
	running map[catalog.Service]service
	// mu guards what the services' concurrent starts write.
	mu sync.Mutex
}

// keep sets a typed field of the stack (Kafka, HDFS, Spark) from a
// service's start, which runs concurrently with the others'.
func (s *Stack) keep(set func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set()
}

// Has says whether svc has a container in the stack.
func (s *Stack) Has(svc catalog.Service) bool { return s.running[svc] != nil }

// StackOptions configure Start.
type StackOptions struct {
	// Images to run, resolved once by the caller (the CLI's flags and
	// variables); ImagesFromEnv() when empty, for library callers.
	Images Images
	// Warm names the containers and network for reuse and keeps them running.
	Warm bool
	// DataNodes is the number of HDFS DataNodes (default 3).
	DataNodes int
}

// WarmNetwork is the network warm services share.
const WarmNetwork = "delab-warm"

// definitionsVersion is part of every warm container's name. Bump it
// whenever a service's settings change (its environment, command or
// files): reuse by name does not notice a changed definition, so a new
// name is what makes Start replace the containers started from the old.
const definitionsVersion = "v6"

// WarmName is the container name of a warm service: it carries a hash of
// the image and of definitionsVersion. Start replaces a warm container of
// another name.
func WarmName(s catalog.Service, image string) string {
	sum := sha256.Sum256([]byte(string(s) + "|" + image + "|" + definitionsVersion))
	return "delab-warm-" + string(s) + "-" + hex.EncodeToString(sum[:])[:10]
}

// Start starts the services named in want, in parallel, on a fresh network
// (or, with Warm, on the warm network, reusing running warm containers).
// The stack is returned even on error so that Terminate can clean up.
func Start(ctx context.Context, want []catalog.Service, o StackOptions) (*Stack, error) {
	Prepare() // network.New below is testcontainers' first use in a process that only starts stacks
	if len(o.Images) == 0 {
		o.Images = ImagesFromEnv()
	}
	if o.DataNodes == 0 {
		// Three, so that replication and DataNode loss can be taught.
		o.DataNodes = 3
	}
	st := &Stack{Warm: o.Warm, StartDurations: map[catalog.Service]time.Duration{}, running: map[catalog.Service]service{}}
	if o.Warm {
		if err := ensureNetwork(ctx, WarmNetwork); err != nil {
			return st, fmt.Errorf("create network %s: %w", WarmNetwork, err)
		}
		st.Network = WarmNetwork
		replaced, err := removeOutdatedWarm(ctx, want, o.Images)
		st.Replaced = replaced
		if err != nil {
			return st, err
		}
	} else {
		nw, err := network.New(ctx, network.WithLabels(map[string]string{LabelOwner: "delab", LabelPID: strconv.Itoa(os.Getpid()), LabelWarm: "false"}))
		if err != nil {
			return st, fmt.Errorf("create network: %w", err)
		}
		st.ownNetwork, st.Network = nw, nw.Name
	}
	var (
		wg   sync.WaitGroup
		errs []error
	)
	for _, s := range dedupe(want) {
		d := Lookup(s)
		if d == nil {
			st.mu.Lock()
			errs = append(errs, fmt.Errorf("unknown service %q", s))
			st.mu.Unlock()
			continue
		}
		// WithDataNodes concerns HDFS only; the other services ignore it.
		opts := []Option{WithNetworkName(st.Network), WithImage(o.Images.Of(s)), WithDataNodes(o.DataNodes)}
		if o.Warm {
			opts = append(opts, WithReuseName(WarmName(s, o.Images.Of(s))), WithLabels(map[string]string{LabelWarm: "true"}))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := d.start(ctx, st, opts)
			st.mu.Lock()
			defer st.mu.Unlock()
			st.StartDurations[s] = time.Since(t0)
			if r != nil && r.container() != nil {
				st.running[s] = r
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return st, errors.Join(errs...)
}

// removeOutdatedWarm removes the running or stopped warm containers of
// the services in want that are not named WarmName for the images: ones
// an older delab started from another definition or image. Left running,
// an outdated broker would hold on to the memory it has and share the
// "kafka" alias on the warm network with its successor, so that a
// container could reach either.
func removeOutdatedWarm(ctx context.Context, want []catalog.Service, images Images) ([]string, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelOwner+"=delab").Add("label", LabelWarm+"=true")})
	if err != nil {
		return nil, fmt.Errorf("list warm containers: %w", err)
	}
	gone, errs := removeContainers(ctx, cli, list.Items, func(c container.Summary) bool {
		s := catalog.Service(c.Labels[LabelRole])
		return slices.Contains(want, s) && !slices.Contains(c.Names, "/"+WarmName(s, images.Of(s)))
	})
	var removed []string
	for _, c := range gone {
		removed = append(removed, fmt.Sprintf("%s (%s, %s)", strings.TrimPrefix(containerName(c), "/"), c.Labels[LabelRole], c.Image))
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("replace outdated warm containers: %w", errors.Join(errs...))
	}
	return removed, nil
}

func dedupe(in []catalog.Service) []catalog.Service {
	seen := map[catalog.Service]bool{}
	var out []catalog.Service
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// containers lists the stack's running parts by service.
func (s *Stack) containers() map[catalog.Service]*testcontainers.DockerContainer {
	out := map[catalog.Service]*testcontainers.DockerContainer{}
	for name, r := range s.running {
		out[name] = r.container()
	}
	return out
}

// Terminate removes the stack's containers and network, forcefully: they
// hold nothing worth a graceful stop. Warm stacks are left running.
func (s *Stack) Terminate(ctx context.Context) error {
	if s == nil || s.Warm {
		return nil
	}
	return s.remove(ctx)
}

// Down removes the stack even when it is warm.
func (s *Stack) Down(ctx context.Context) error { return s.remove(ctx) }

func (s *Stack) remove(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx) // cleanup must finish even after Ctrl-C
	var errs []error
	for name, c := range s.containers() {
		if err := testcontainers.TerminateContainer(c, testcontainers.StopContext(ctx), testcontainers.StopTimeout(0)); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", name, err))
		}
	}
	if s.ownNetwork != nil {
		if err := s.ownNetwork.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
	}
	return errors.Join(errs...)
}

// ServiceDiedError says a service stopped while it was in use.
type ServiceDiedError struct {
	Service catalog.Service
	State   string
	Logs    string
}

func (e *ServiceDiedError) Error() string {
	return fmt.Sprintf("the %s service stopped while in use (state: %s); its last log lines:\n%s", e.Service, e.State, e.Logs)
}

// Health returns a *ServiceDiedError for the first service that is no
// longer running, nil when all are.
func (s *Stack) Health(ctx context.Context) error {
	for name, c := range s.containers() {
		st, err := c.State(ctx)
		if err != nil {
			return &ServiceDiedError{Service: name, State: "unknown: " + err.Error()}
		}
		if !st.Running {
			return &ServiceDiedError{Service: name, State: string(st.Status), Logs: lastLogLines(ctx, c, 20)}
		}
		if d := Lookup(name); d != nil && d.health != nil {
			if err := d.health(ctx, s.running[name]); err != nil {
				return err
			}
		}
	}
	return nil
}

// StopNode stops node i of a service as a crash would (see Session).
func (s *Stack) StopNode(ctx context.Context, svc catalog.Service, i int) error {
	d, r, err := s.nodeService(svc, "stop a node of")
	if err != nil {
		return err
	}
	return d.stopNode(ctx, r, i)
}

// StartNode starts node i of a service again (see Session).
func (s *Stack) StartNode(ctx context.Context, svc catalog.Service, i int) error {
	d, r, err := s.nodeService(svc, "start a node of")
	if err != nil {
		return err
	}
	return d.startNode(ctx, r, i)
}

func (s *Stack) nodeService(svc catalog.Service, what string) (*Definition, service, error) {
	d := Lookup(svc)
	if d == nil || d.stopNode == nil || d.startNode == nil {
		return nil, nil, fmt.Errorf("%s %s: not supported", what, svc)
	}
	r := s.running[svc]
	if r == nil {
		return nil, nil, fmt.Errorf("%s %s: not part of this stack", what, svc)
	}
	return d, r, nil
}

// execOutputLimit bounds what Exec returns.
const execOutputLimit = 1 << 20

// Exec runs a command in a service's container (see Session).
func (s *Stack) Exec(ctx context.Context, svc catalog.Service, cmd ...string) (string, error) {
	r := s.running[svc]
	if r == nil || r.container() == nil {
		return "", fmt.Errorf("run %s in %s: not part of this stack", strings.Join(cmd, " "), svc)
	}
	code, rd, err := r.container().Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("run %s in %s: %w", strings.Join(cmd, " "), svc, err)
	}
	out, err := io.ReadAll(io.LimitReader(rd, execOutputLimit))
	if err != nil {
		return string(out), fmt.Errorf("run %s in %s: read its output: %w", strings.Join(cmd, " "), svc, err)
	}
	if code != 0 {
		return string(out), fmt.Errorf("%s in %s exited with code %d", strings.Join(cmd, " "), svc, code)
	}
	return string(out), nil
}

// Restart restarts a service of the stack in place (see Session).
func (s *Stack) Restart(ctx context.Context, svc catalog.Service, down time.Duration) error {
	d := Lookup(svc)
	if d == nil || d.restart == nil {
		return fmt.Errorf("restart %s: not supported", svc)
	}
	r := s.running[svc]
	if r == nil {
		return fmt.Errorf("restart %s: not part of this stack", svc)
	}
	return d.restart(ctx, r, down)
}

// Endpoints are the addresses of a stack's services as seen from the host.
type Endpoints = endpoints.Endpoints

// Endpoints returns the host-side addresses of the running services.
func (s *Stack) Endpoints() Endpoints {
	e := Endpoints{Network: s.Network}
	for _, r := range s.running {
		r.addEndpoints(&e)
	}
	return e
}

func ensureNetwork(ctx context.Context, name string) error {
	cli, err := dockerClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	list, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", name)})
	if err != nil {
		return err
	}
	for _, n := range list.Items {
		if n.Name == name {
			return nil
		}
	}
	_, err = cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{LabelOwner: "delab", LabelWarm: "true"}})
	return err
}

// Memory is a container's memory use as its cgroup reports it.
type Memory struct {
	// Usage is the current use; Peak the highest since start (cgroup v1
	// reports it; on cgroup v2 Peak is 0).
	Usage, Peak int64
}

// MemoryUse samples the memory of each running service.
func (s *Stack) MemoryUse(ctx context.Context) (map[catalog.Service]Memory, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	out := map[catalog.Service]Memory{}
	for name, c := range s.containers() {
		res, err := cli.ContainerStats(ctx, c.GetContainerID(), client.ContainerStatsOptions{Stream: false})
		if err != nil {
			return nil, err
		}
		var st struct {
			MemoryStats struct {
				Usage    int64 `json:"usage"`
				MaxUsage int64 `json:"max_usage"`
			} `json:"memory_stats"`
		}
		err = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		out[name] = Memory{Usage: st.MemoryStats.Usage, Peak: st.MemoryStats.MaxUsage}
	}
	return out, nil
}
