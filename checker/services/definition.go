package services

import (
	"context"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/delab-dev/delab/checker/catalog"
)

// Definition is everything delab knows about one service: its names, its
// image, how to start it, what addresses it has and how a check breaks
// it. Each service's file (kafka.go, hdfs.go, spark.go) holds its
// Definition; definitions lists them. Stacks, `delab up`, `delab doctor`,
// the image flags and the image variables all loop over that list.
type Definition struct {
	// Name is how lab.yaml, `delab up`, container labels and the
	// services' network name it; catalog.Services lists the same names.
	Name catalog.Service
	// Title is how sentences name it: "Kafka".
	Title string
	// DefaultImage is the pinned official image.
	DefaultImage string
	// ImageEnv is the variable naming another image; `make images`
	// records its stand-ins under the same name.
	ImageEnv string
	// ImageFlag is the CLI flag naming another image.
	ImageFlag string

	// start starts the service with the stack's options; the result is
	// returned even on error so that it can be removed.
	start func(ctx context.Context, st *Stack, opts []Option) (service, error)
	// restart is the fault a check injects (Session.Restart); nil when
	// the service has none.
	restart func(ctx context.Context, s service, down time.Duration) error
	// stopNode and startNode stop node i of the service (HDFS: DataNode
	// i) as a crash would, and start it again (Session.StopNode and
	// StartNode); nil when the service has no such nodes.
	stopNode, startNode func(ctx context.Context, s service, i int) error
	// health finds what Stack.Health reports beyond a stopped container
	// (HDFS: a NameNode in safe mode, a DataNode dead); nil when none.
	health func(ctx context.Context, s service) error
	// summary is its `delab up` line: addresses from the host and from
	// containers.
	summary func(e Endpoints) string
}

// service is one started service.
type service interface {
	// container is its Docker container, nil when none was created.
	container() *testcontainers.DockerContainer
	// addEndpoints writes its host-side addresses into e.
	addEndpoints(e *Endpoints)
}

// definitions is the table of services, in the order delab lists them
// (`delab up`, `delab doctor`).
var definitions = []*Definition{&kafkaDefinition, &hdfsDefinition, &sparkDefinition}

// Definitions returns every service's definition, in the order delab
// lists them.
func Definitions() []*Definition { return definitions }

// Lookup returns the definition of a service, or nil for a name delab
// does not know.
func Lookup(name catalog.Service) *Definition {
	for _, d := range definitions {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Names returns the services' names in the order delab lists them.
func Names() []catalog.Service {
	out := make([]catalog.Service, len(definitions))
	for i, d := range definitions {
		out[i] = d.Name
	}
	return out
}

// Summary is the service's line in `delab up`: its addresses from the
// host and from containers.
func (d *Definition) Summary(e Endpoints) string { return d.summary(e) }

// Image returns the image the environment names for the service: its
// ImageEnv variable when set, else the stand-in `make images` recorded in
// BuiltImagesFile, else DefaultImage.
func (d *Definition) Image() string {
	return resolveImage(d.ImageEnv, d.DefaultImage, "", builtImages())
}
