// Package registry lists every lab's trusted grader. The list lives in
// registry_gen.go, written by `go generate ./checker/registry` from the
// folders under checker/labs and the labs' lab.yaml, so adding a lab means
// adding files.
package registry

//go:generate go run ./gen

import "github.com/delab-dev/delab/checker/grader"

// register returns a copy of g with the id its folder gives it and the
// kits of the services its lab.yaml lists: grader files leave both out.
func register(g grader.Lab, id string, kits ...string) *grader.Lab {
	g.ID, g.Kits = id, kits
	return &g
}

// All returns every registered grader in lab id order.
func All() []*grader.Lab { return registry }

// ByID returns the grader for a lab id, or nil.
func ByID(id string) *grader.Lab {
	for _, g := range registry {
		if g.ID == id {
			return g
		}
	}
	return nil
}
