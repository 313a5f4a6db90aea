package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/progress"
	"github.com/delab-dev/delab/checker/registry"
	"github.com/delab-dev/delab/checker/services"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

// Factory provides what commands depend on; tests replace its fields.
type Factory struct {
	IO *IOStreams
	// Catalog returns the course content embedded in the binary (trusted).
	Catalog func() (*catalog.Catalog, error)
	// Grader returns the trusted grader of a lab.
	Grader func(id string) *grader.Lab
	// Progress returns the learner's progress store.
	Progress func() (*progress.Store, error)
	// Engine returns a grading engine.
	Engine func() *engine.Engine
	// Getwd is where the search for the learner's checkout starts.
	Getwd func() (string, error)
	// StateDir holds backups and other files delab keeps for the learner.
	StateDir func() (string, error)
	// Now is the clock.
	Now func() time.Time
	// Images returns the service images to use (flags, then DELAB_*_IMAGE,
	// then the stand-ins `make images` built, then the pinned official
	// ones), resolved on the first call and the same after it.
	Images func() services.Images
	// Services returns the provider for labs that need Kafka, HDFS or Spark.
	Services func() services.Provider
}

// sandboxChoice resolves DELAB_SANDBOX once per process: "container",
// "process", or "auto" (the default: the container sandbox when a Docker
// engine answers, else the process sandbox with a one-line notice).
type sandboxChoice struct {
	once   sync.Once
	chosen string
}

var sandbox sandboxChoice

func (s *sandboxChoice) mode(notice io.Writer) string {
	s.once.Do(func() {
		switch want := strings.TrimSpace(os.Getenv("DELAB_SANDBOX")); want {
		case engine.SandboxContainer, engine.SandboxProcess:
			s.chosen = want
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if err := services.CheckDocker(ctx); err != nil {
				s.chosen = engine.SandboxProcess
				fmt.Fprintln(notice, "sandbox: no Docker, so your code runs as a process on this machine (time, memory and its process tree are still watched)")
				return
			}
			s.chosen = engine.SandboxContainer
		}
	})
	return s.chosen
}

// NewFactory wires the real implementations.
func NewFactory(io *IOStreams) *Factory {
	f := &Factory{
		IO:      io,
		Catalog: func() (*catalog.Catalog, error) { return catalog.Load(lessons.FS, labs.FS) },
		Grader:  registry.ByID,
		Progress: func() (*progress.Store, error) {
			p, err := progress.DefaultPath()
			return &progress.Store{Path: p}, err
		},
		Engine: func() *engine.Engine {
			e := &engine.Engine{Sandbox: sandbox.mode(io.ErrOut)}
			if dir, err := os.UserCacheDir(); err == nil {
				e.BuildRoot = filepath.Join(dir, "delab", "build")
			}
			return e
		},
		Getwd: os.Getwd,
		StateDir: func() (string, error) {
			p, err := progress.DefaultPath()
			return filepath.Dir(p), err
		},
		Now:    time.Now,
		Images: sync.OnceValue(services.ImagesFromEnv),
	}
	f.Services = func() services.Provider {
		return &services.Docker{
			Options:  services.StackOptions{Images: f.Images()},
			Progress: func(msg string) { fmt.Fprintln(f.IO.ErrOut, "services: "+msg) },
		}
	}
	return f
}

// addImageFlags adds a --<service>-image flag per service to root and
// makes f.Images resolve them, once, after the flags are parsed.
func addImageFlags(root *cobra.Command, f *Factory) {
	chosen := map[catalog.Service]*string{}
	for _, d := range services.Definitions() {
		chosen[d.Name] = root.PersistentFlags().String(d.ImageFlag, "", d.Title+" image (default $"+d.ImageEnv+" or "+d.DefaultImage+")")
	}
	f.Images = sync.OnceValue(func() services.Images {
		flags := map[catalog.Service]string{}
		for s, v := range chosen {
			flags[s] = *v
		}
		return services.ResolveImages(flags)
	})
}

// sweepLeftovers removes containers that killed delab runs left behind,
// saying what it removed. It is quiet when there is no Docker.
func (f *Factory) sweepLeftovers(ctx context.Context) {
	if services.CheckDocker(ctx) != nil {
		return
	}
	removed, err := services.Sweep(ctx, false)
	for _, r := range removed {
		fmt.Fprintln(f.IO.ErrOut, "services: removed leftover "+r+" of an earlier run")
	}
	if err != nil {
		fmt.Fprintln(f.IO.ErrOut, "warning: could not remove leftovers of an earlier run: "+err.Error())
	}
}

// findRepo returns the learner's checkout: explicit, or the first folder
// at or above the working directory holding go.mod and labs/.
func (f *Factory) findRepo(explicit string) (string, error) {
	if explicit == "" {
		explicit = os.Getenv("DELAB_REPO")
	}
	if explicit != "" {
		abs, err := filepath.Abs(explicit)
		if err != nil {
			return "", err
		}
		if !isRepo(abs) {
			return "", fmt.Errorf("%s is not a delab checkout (it needs go.mod and a labs/ folder)", explicit)
		}
		return abs, nil
	}
	wd, err := f.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isRepo(dir) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("no delab checkout found here or in any parent folder (one holds go.mod and labs/); run delab inside your clone or pass --repo DIR")
		}
	}
}

func isRepo(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "labs"))
	if err != nil || !st.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// resolveLab loads the catalog and finds a lab by a full or short id.
func (f *Factory) resolveLab(id string) (*catalog.Catalog, *catalog.Lab, error) {
	c, err := f.Catalog()
	if err != nil {
		return nil, nil, fmt.Errorf("course content is invalid:\n%w", err)
	}
	lab, err := c.ResolveLab(id)
	if err != nil {
		return nil, nil, err
	}
	return c, lab, nil
}

// loadProgress reads progress, printing any corruption warning.
func (f *Factory) loadProgress() (*progress.Store, *progress.Progress, error) {
	s, err := f.Progress()
	if err != nil {
		return nil, nil, err
	}
	p, warn, err := s.Load()
	if err != nil {
		return nil, nil, err
	}
	if warn != "" {
		fmt.Fprintln(f.IO.ErrOut, "warning: "+warn)
	}
	return s, p, nil
}
