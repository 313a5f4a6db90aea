// Package labs embeds the metadata of every lab so the delab binary carries
// a trusted copy of it; the learner's Go code in the lab folders is read
// from disk at grading time, never from here.
package labs

import "embed"

// FS holds every labs/<track>/<NN-slug>/lab.yaml, rooted at labs/.
//
//go:embed */*/lab.yaml
var FS embed.FS
