// Package delab holds what the delab binary must carry of its own module:
// the go.mod and go.sum that learner code is built against when an
// instructor grades, so that a student's edited go.mod (a replace
// directive, an extra requirement) never reaches the build.
package delab

import _ "embed"

// GoMod is this module's go.mod, as the binary was built from it.
//
//go:embed go.mod
var GoMod []byte

// GoSum is this module's go.sum, the checksums GoMod's requirements are
// verified against.
//
//go:embed go.sum
var GoSum []byte
