package grader

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Budget must be usable wherever Arrow and Parquet take an allocator.
var _ memory.Allocator = (*Budget)(nil)

func TestReadArtifactTurnsAPanicIntoTheLearnersFailure(t *testing.T) {
	dict := []string{"a", "b", "c"}
	idx := 1 << 30
	err := ReadArtifact("Arrow file out.arrow", func() error {
		_ = dict[idx]
		return nil
	})
	var f *Failure
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your Arrow file out.arrow could not be read: runtime error: index out of range [1073741824] with length 3", f.Message)

	err = ReadArtifact("Avro file v2.avro", func() error { panic(errors.New("decoder: invalid block")) })
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your Avro file v2.avro could not be read: decoder: invalid block", f.Message)

	err = ReadArtifact("report", func() error { panic(42) })
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your report could not be read: 42", f.Message)
}

func TestReadArtifactReturnsErrorsAsTheyAre(t *testing.T) {
	require.NoError(t, ReadArtifact("x", func() error { return nil }))
	checkerErr := errors.New("grader writing the query file")
	err := ReadArtifact("x", func() error { return checkerErr })
	require.Same(t, checkerErr, err)
	var f *Failure
	require.False(t, errors.As(err, &f), "the grader decided this one is not the learner's")
}

func TestUnmarshalArtifact(t *testing.T) {
	var v struct{ N int }
	require.NoError(t, UnmarshalArtifact("result", []byte(`{"N": 3}`), &v))
	require.Equal(t, 3, v.N)
	err := UnmarshalArtifact("result", []byte(`{"N": "three"}`), &v)
	var f *Failure
	require.Error(t, err)
	require.False(t, errors.As(err, &f), "the grader judges a JSON error itself")
}

func TestOpenArtifact(t *testing.T) {
	dir := t.TempDir()
	_, _, err := OpenArtifact("file out.bin", filepath.Join(dir, "missing"), 0)
	require.ErrorIs(t, err, fs.ErrNotExist, "a missing file is for the grader to explain")
	var f *Failure
	require.False(t, errors.As(err, &f))

	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 2048), 0o644))
	_, _, err = OpenArtifact("file big", big, 1024)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your file big could not be read: it is 2.0 KiB, and the checker reads files of at most 1.0 KiB", f.Message)

	file, size, err := OpenArtifact("file big", big, 2048)
	require.NoError(t, err)
	require.EqualValues(t, 2048, size)
	require.NoError(t, file.Close())

	_, _, err = OpenArtifact("output", dir, 0)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your output could not be read: it is not a regular file (d---------)", f.Message)
}

func TestOpenArtifactDoesNotBlockOnAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "report.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	done := make(chan error, 1)
	go func() {
		_, err := ReadArtifactFile("report", fifo, 0)
		done <- err
	}()
	select {
	case err := <-done:
		var f *Failure
		require.ErrorAs(t, err, &f)
		assert.Contains(t, f.Message, "it is not a regular file (p---------)")
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO the learner left at the output path blocked the grader")
	}
}

func TestReadArtifactFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	want := make([]byte, 100_000)
	for i := range want {
		want[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(p, want, 0o644))
	got, err := ReadArtifactFile("f", p, 0)
	require.NoError(t, err)
	require.Equal(t, want, got)
	_, err = ReadArtifactFile("f", p, 99_999)
	var f *Failure
	require.ErrorAs(t, err, &f)
}

func TestBudget(t *testing.T) {
	b := NewBudget(1000)
	buf := b.Allocate(600)
	require.Len(t, buf, 600)
	require.Zero(t, uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%alignment, "Arrow expects 64-byte aligned buffers")

	err := ReadArtifact("Arrow file f.arrow", func() error {
		b.Allocate(500)
		return nil
	})
	var f *Failure
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your Arrow file f.arrow could not be read: decoding it needs more than 1000 B (it asks for a buffer of 500 bytes with 600 B in use)", f.Message)

	// What is freed can be allocated again.
	b.Free(buf)
	buf = b.Allocate(400)
	buf[0] = 1
	grown := b.Reallocate(500, buf)
	require.Len(t, grown, 500)
	require.Equal(t, byte(1), grown[0])
	// Growing holds the old buffer and the new one while it copies.
	require.Panics(t, func() { b.Reallocate(600, grown) })
	b.Free(grown)
	require.Len(t, b.Allocate(1000), 1000)

	err = ReadArtifact("file", func() error {
		NewBudget(10).Allocate(-8)
		return nil
	})
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "your file could not be read: it declares a buffer of -8 bytes", f.Message)
}

// TestBudgetRefusesWhatWouldEndTheProcess: 1 TiB cannot be allocated, and
// the Go runtime does not panic but exits when it tries.
func TestBudgetRefusesWhatWouldEndTheProcess(t *testing.T) {
	err := ReadArtifact("file", func() error {
		NewBudget(256 << 20).Allocate(1 << 40)
		return nil
	})
	var f *Failure
	require.ErrorAs(t, err, &f)
	assert.Contains(t, f.Message, "decoding it needs more than 256.0 MiB")
}
