package services

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/delab-dev/delab/checker/catalog"
)

// Images maps each service to the image it runs. Resolve it once
// (ResolveImages) and pass it down: a Stack, a Docker provider and
// `delab doctor` use the value they are given.
type Images map[catalog.Service]string

// ResolveImages returns every service's image: the one in chosen (the
// CLI's image flags) when set; else its ImageEnv variable (for example
// DELAB_KAFKA_IMAGE); else the stand-in that `make images` built and
// recorded in BuiltImagesFile, if there is one (so an offline machine
// just works); else the pinned official image.
func ResolveImages(chosen map[catalog.Service]string) Images {
	built := builtImages()
	out := Images{}
	for _, d := range definitions {
		out[d.Name] = resolveImage(d.ImageEnv, d.DefaultImage, chosen[d.Name], built)
	}
	return out
}

// resolveImage is ResolveImages for one service. It does not read the
// definitions table, so that a service's constructor (which the table
// refers to) may call it.
func resolveImage(env, def, chosen string, built map[string]string) string {
	if v := strings.TrimSpace(chosen); v != "" {
		return v
	}
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		return v
	}
	if v := built[env]; v != "" {
		return v
	}
	return def
}

// ImagesFromEnv is ResolveImages without flags: what a library caller
// (tests, benchmarks) runs.
func ImagesFromEnv() Images { return ResolveImages(nil) }

// Of returns the image of one service.
func (i Images) Of(s catalog.Service) string { return i[s] }

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
