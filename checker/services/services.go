// Package services starts real Apache Kafka, HDFS and Spark in containers
// with testcontainers-go. Each service has a constructor with functional
// options (Kafka, HDFS, Spark); Start brings up the set a lab needs on one
// Docker network. Images default to the official upstream ones, pinned,
// and can be pointed at delab's offline stand-ins by environment variable.
package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

// Official images, pinned. Override with each Definition's ImageEnv
// variable or ImageFlag flag (see ResolveImages).
const (
	DefaultKafkaImage = "apache/kafka:4.2.0"
	DefaultHDFSImage  = "apache/hadoop:3.4.3"
	DefaultSparkImage = "apache/spark:4.0.1-scala2.13-java17-python3-ubuntu"
)

// Labels delab puts on everything it starts, so that a later run can find
// and remove what a killed run left behind.
const (
	LabelOwner = "dev.delab.owner" // always "delab"
	LabelPID   = "dev.delab.pid"   // pid of the delab process that started it
	LabelWarm  = "dev.delab.warm"  // "true" for `delab up` services, kept between runs
	LabelRole  = "dev.delab.service"
)

// Prepare adjusts testcontainers for delab before its first use:
//   - inside a container (/.dockerenv) with a local socket, testcontainers
//     would dial the default gateway to reach mapped ports; 127.0.0.1 is
//     where they are, so TESTCONTAINERS_HOST_OVERRIDE is set to it;
//   - the Ryuk reaper is off unless asked for: delab labels what it starts
//     and sweeps leftovers itself (Sweep), which works offline too.
//
// Variables the user already set are left alone. testcontainers reads
// its configuration once, at its first use, so Prepare does its work
// once too; every function of this package that talks to Docker calls
// it first (through dockerClient or newConfig).
func Prepare() { prepareOnce.Do(prepare) }

var prepareOnce sync.Once

func prepare() {
	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set {
		host := os.Getenv("DOCKER_HOST")
		if _, err := os.Stat("/.dockerenv"); err == nil && (host == "" || strings.HasPrefix(host, "unix://")) {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
	}
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// dockerClient is the Docker client of testcontainers, prepared for delab.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	Prepare()
	return testcontainers.NewDockerClientWithOpts(ctx)
}

// config is what the functional options set.
type config struct {
	image     string
	network   string
	reuseName string
	labels    map[string]string
	heap      string
	dataNodes int
	startup   time.Duration
}

// Option configures a service.
type Option func(*config)

// WithImage sets the service's image; without it the service runs the
// image the environment names (Definition.Image).
func WithImage(ref string) Option { return func(c *config) { c.image = ref } }

// WithNetwork attaches the service to a network under its alias
// ("kafka", "hdfs", "spark").
func WithNetwork(nw *testcontainers.DockerNetwork) Option {
	return func(c *config) { c.network = nw.Name }
}

// WithNetworkName attaches the service to an existing network by name.
func WithNetworkName(name string) Option { return func(c *config) { c.network = name } }

// WithReuseName names the container and reuses a running one of that name
// (warm services). Put a hash of the definition in the name: reuse does not
// notice changed settings.
func WithReuseName(name string) Option { return func(c *config) { c.reuseName = name } }

// WithLabels adds container labels.
func WithLabels(l map[string]string) Option {
	return func(c *config) {
		for k, v := range l {
			c.labels[k] = v
		}
	}
}

// WithHeap sets the JVM heap (e.g. "512m") of the service's main process.
func WithHeap(h string) Option { return func(c *config) { c.heap = h } }

// WithDataNodes sets how many HDFS DataNodes run (1 to 3).
func WithDataNodes(n int) Option { return func(c *config) { c.dataNodes = n } }

// WithStartupTimeout bounds how long the service may take to become ready.
func WithStartupTimeout(d time.Duration) Option { return func(c *config) { c.startup = d } }

// newConfig applies opts over the service's defaults. The image its
// imageEnv and defaultImage name is resolved only when no WithImage
// gives one.
func newConfig(imageEnv, defaultImage, heap string, startup time.Duration, opts []Option) *config {
	Prepare()
	c := &config{heap: heap, dataNodes: 1, startup: startup, labels: map[string]string{
		LabelOwner: "delab",
		LabelPID:   strconv.Itoa(os.Getpid()),
		LabelWarm:  "false",
	}}
	for _, o := range opts {
		o(c)
	}
	if c.image == "" {
		c.image = resolveImage(imageEnv, defaultImage, "", builtImages())
	}
	return c
}

// common returns the customizers every service shares.
func (c *config) common(alias string) []testcontainers.ContainerCustomizer {
	labels := map[string]string{LabelRole: alias}
	for k, v := range c.labels {
		labels[k] = v
	}
	out := []testcontainers.ContainerCustomizer{testcontainers.WithLabels(labels)}
	if c.network != "" {
		out = append(out, network.WithNetworkName([]string{alias}, c.network))
	}
	if c.reuseName != "" {
		out = append(out, testcontainers.WithReuseByName(c.reuseName))
	}
	return out
}

// ErrNoDocker says no container engine answered.
var ErrNoDocker = errors.New("no Docker engine is reachable")

// CheckDocker reports whether a Docker engine answers, with a remedy.
func CheckDocker(ctx context.Context) error {
	cli, err := dockerClient(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v (start Docker, or set DOCKER_HOST)", ErrNoDocker, err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w: %v (start Docker, or set DOCKER_HOST)", ErrNoDocker, err)
	}
	return nil
}

// lastLogLines returns the last n lines a container printed, for reports
// on services that died.
func lastLogLines(ctx context.Context, c testcontainers.Container, n int) string {
	if c == nil {
		return ""
	}
	rc, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startError wraps a start failure with the container's last log lines.
func startError(ctx context.Context, what string, c testcontainers.Container, err error) error {
	if tail := lastLogLines(context.WithoutCancel(ctx), c, 15); tail != "" {
		return fmt.Errorf("start %s: %w\nlast log lines:\n%s", what, err, tail)
	}
	return fmt.Errorf("start %s: %w", what, err)
}

func mappedHostPort(ctx context.Context, c testcontainers.Container, port string) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", err
	}
	return host + ":" + p.Port(), nil
}
