// Package labs is the trusted side of the course: each
// <track>/<NN-slug>/ folder under it holds a lab's grader package, harness,
// reference and wrong solutions, starter snapshot and hints.yaml. This
// package embeds the hints, so that the delab binary carries them and the
// learner's folder does not: a learner sees a hint only when a check fails
// or when they ask for one with `delab hint`.
package labs

import "embed"

// Hints holds every <track>/<NN-slug>/hints.yaml, rooted at checker/labs/.
// Each file maps a check id of the lab to its hints, in increasing detail.
//
//go:embed */*/hints.yaml
var Hints embed.FS
