package report

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Sign sets r.Signature to the hex HMAC-SHA256, under key, of the run's
// canonical JSON (Canonical) without the signature. Sign it last: any
// field changed afterwards breaks the signature.
func Sign(r *Run, key []byte) error {
	if len(key) == 0 {
		return errors.New("sign: empty key")
	}
	r.Signature = ""
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	mac, err := reportMAC(data, key)
	if err != nil {
		return err
	}
	r.Signature = hex.EncodeToString(mac)
	return nil
}

// Verify checks the signature of a JSON report as written by WriteJSON:
// it must be present and match the HMAC of the rest of the report under
// key. The report is compared as JSON, not as a Go value, so a field this
// build of delab does not know is signed too and cannot be added unseen.
func Verify(data, key []byte) error {
	var probe struct {
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("not a delab report: %w", err)
	}
	if probe.Signature == "" {
		return errors.New("the report is not signed")
	}
	got, err := hex.DecodeString(probe.Signature)
	if err != nil {
		return errors.New("the signature is not hex")
	}
	want, err := reportMAC(data, key)
	if err != nil {
		return err
	}
	if !hmac.Equal(got, want) {
		return errors.New("the signature does not match: the report was edited, or signed with another key")
	}
	return nil
}

func reportMAC(data, key []byte) ([]byte, error) {
	canon, err := Canonical(data)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write(canon)
	return m.Sum(nil), nil
}

// Canonical is the form of a JSON report that is signed: the top-level
// "signature" removed, object keys sorted, no insignificant white space,
// numbers exactly as written (a seed above 2^53 must not be rounded).
// Indentation and key order therefore do not matter; every value does.
func Canonical(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not a delab report: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a delab report: not a JSON object")
	}
	delete(obj, "signature")
	// encoding/json writes map keys sorted and json.Number verbatim.
	return json.Marshal(obj)
}

// SourceFile is one student file the engine read, for SourceDigest.
type SourceFile struct {
	// Path is relative to the checkout, with slashes.
	Path string
	Data []byte
}

// SourceDigest is "sha256:" and the hex SHA-256 over files sorted by
// path, each written as its path, a NUL, its length, a NUL and its
// content; the length keeps one file's end from passing for the next
// one's start.
func SourceDigest(files []SourceFile) string {
	sorted := append([]SourceFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha256.New()
	for _, f := range sorted {
		h.Write([]byte(f.Path))
		h.Write([]byte{0})
		h.Write([]byte(strconv.Itoa(len(f.Data))))
		h.Write([]byte{0})
		h.Write(f.Data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
