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
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/delab-dev/delab/checker/catalog"
)

// Official images, pinned. Override with DELAB_KAFKA_IMAGE, DELAB_HDFS_IMAGE
// and DELAB_SPARK_IMAGE (or the matching CLI flags).
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

// Images names the image of each service.
type Images struct {
	Kafka, HDFS, Spark string
}

// ImagesFromEnv returns each service's image: its DELAB_*_IMAGE variable
// when set; otherwise the stand-in that `make images` built and recorded
// in its images.env, if there is one (so an offline machine just works);
// otherwise the pinned official image.
func ImagesFromEnv() Images {
	built := builtImages()
	pick := func(env, def string) string {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return v
		}
		if v := built[env]; v != "" {
			return v
		}
		return def
	}
	return Images{
		Kafka: pick("DELAB_KAFKA_IMAGE", DefaultKafkaImage),
		HDFS:  pick("DELAB_HDFS_IMAGE", DefaultHDFSImage),
		Spark: pick("DELAB_SPARK_IMAGE", DefaultSparkImage),
	}
}

// BuiltImagesFile is where `make images` records the stand-ins it built.
func BuiltImagesFile() string {
	if d := os.Getenv("DELAB_IMAGE_CACHE"); d != "" {
		return filepath.Join(d, "images.env")
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "delab", "images", "images.env")
}

// builtImages reads the "export NAME=value" lines of BuiltImagesFile.
func builtImages() map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(BuiltImagesFile())
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "DELAB_") {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// Of returns the image of one service.
func (i Images) Of(s catalog.Service) string {
	switch s {
	case catalog.Kafka:
		return i.Kafka
	case catalog.HDFS:
		return i.HDFS
	case catalog.Spark:
		return i.Spark
	}
	return ""
}

// Prepare adjusts testcontainers for delab before its first use:
//   - inside a container (/.dockerenv) with a local socket, testcontainers
//     would dial the default gateway to reach mapped ports; 127.0.0.1 is
//     where they are, so TESTCONTAINERS_HOST_OVERRIDE is set to it;
//   - the Ryuk reaper is off unless asked for: delab labels what it starts
//     and sweeps leftovers itself (Sweep), which works offline too.
//
// Variables the user already set are left alone.
func Prepare() {
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

// WithImage replaces the service's image.
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

func newConfig(image, heap string, startup time.Duration, opts []Option) *config {
	c := &config{image: image, heap: heap, dataNodes: 1, startup: startup, labels: map[string]string{
		LabelOwner: "delab",
		LabelPID:   strconv.Itoa(os.Getpid()),
		LabelWarm:  "false",
	}}
	for _, o := range opts {
		o(c)
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
	Prepare()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
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
