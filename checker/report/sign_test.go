package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signedJSON is sampleRun with provenance, signed under key, as WriteJSON writes it.
func signedJSON(t *testing.T, key string) []byte {
	t.Helper()
	r := sampleRun()
	r.Seed = 1<<63 + 12345 // above 2^53: must survive canonicalisation exactly
	r.Student, r.DelabVersion, r.GradersCommit = "alice", "v1.2.3", "0123abcd"
	r.SourceDigest = SourceDigest([]SourceFile{{Path: "labs/a/x.go", Data: []byte("package a")}})
	require.NoError(t, Sign(r, []byte(key)))
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, r))
	return buf.Bytes()
}

func TestSignedReportVerifiesAndEditsAreCaught(t *testing.T) {
	data := signedJSON(t, "k1")
	require.NoError(t, Verify(data, []byte("k1")))
	assert.ErrorContains(t, Verify(data, []byte("k2")), "does not match", "another key")

	edits := map[string]func(m map[string]any){
		"points raised":   func(m map[string]any) { m["points"] = json.Number("15") },
		"check passed":    func(m map[string]any) { check(m, 0, 1)["status"] = "passed" },
		"student renamed": func(m map[string]any) { m["student"] = "bob" },
		"field added":     func(m map[string]any) { m["approved_by"] = "teacher" },
		"seed off by one": func(m map[string]any) { m["seed"] = json.Number("9223372036854788154") },
		"digest changed":  func(m map[string]any) { m["source_digest"] = "sha256:" + strings.Repeat("0", 64) },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			m := decode(t, data)
			edit(m)
			edited, err := json.Marshal(m)
			require.NoError(t, err)
			assert.ErrorContains(t, Verify(edited, []byte("k1")), "does not match")
		})
	}

	// Re-indenting or reordering keys is not an edit.
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, data))
	assert.NoError(t, Verify(compact.Bytes(), []byte("k1")))

	m := decode(t, data)
	delete(m, "signature")
	unsigned, _ := json.Marshal(m)
	assert.ErrorContains(t, Verify(unsigned, []byte("k1")), "not signed")
	assert.Error(t, Verify([]byte("not json"), []byte("k1")))
	assert.Error(t, Sign(sampleRun(), nil), "an empty key signs nothing")
}

func TestSignedReportMatchesSchema(t *testing.T) {
	f, err := os.Open("schema.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("schema.json", doc))
	schema, err := c.Compile("schema.json")
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(signedJSON(t, "k")))
	require.NoError(t, err)
	assert.NoError(t, schema.Validate(inst))
}

func TestSourceDigest(t *testing.T) {
	a := []SourceFile{{Path: "labs/x/a.go", Data: []byte("package x\n")}, {Path: "labs/x/b.go", Data: []byte("// b")}}
	reordered := []SourceFile{a[1], a[0]}
	assert.Equal(t, SourceDigest(a), SourceDigest(reordered), "order of reading does not matter")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, SourceDigest(a))
	changed := []SourceFile{a[0], {Path: "labs/x/b.go", Data: []byte("// c")}}
	assert.NotEqual(t, SourceDigest(a), SourceDigest(changed))
	// Moving bytes from one file's end to the next file's start is a change.
	shifted := []SourceFile{{Path: "labs/x/a.go", Data: []byte("package x")}, {Path: "labs/x/b.go", Data: []byte("\n// b")}}
	assert.NotEqual(t, SourceDigest(a), SourceDigest(shifted))
	renamed := []SourceFile{a[0], {Path: "labs/x/c.go", Data: []byte("// b")}}
	assert.NotEqual(t, SourceDigest(a), SourceDigest(renamed))
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

func check(m map[string]any, lab, c int) map[string]any {
	return m["labs"].([]any)[lab].(map[string]any)["checks"].([]any)[c].(map[string]any)
}
