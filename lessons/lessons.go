// Package lessons embeds the course text: tracks.yaml and every lesson's
// Markdown, rooted at lessons/.
package lessons

import "embed"

// FS holds tracks.yaml and lessons/<track>/*.md.
//
//go:embed tracks.yaml */*.md
var FS embed.FS
