package grader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unsafe"
)

// An artifact is anything the learner's code produced that a grader
// parses: a file it wrote, a value it returned, records it put on a topic.
// The grader trusts none of it. A decoder that indexes out of range on a
// malformed file, or believes a length a hostile file declares, must end
// in a failed check that names the artifact, not in "the checker itself
// crashed" or in the checker's process running out of memory.

// MaxArtifactBytes is the largest file a grader reads from the learner's
// code unless it passes its own limit: far above any file a lab asks for
// (the largest are a few MiB), far below what would strain the checker.
const MaxArtifactBytes int64 = 256 << 20

// ReadArtifact runs read, a grader's parsing of an artifact, so that a
// panic inside it (a decoder's index out of range, a Budget exceeded) is
// the learner's failure: it comes back as the *Failure "your <what> could
// not be read: <cause>". what names the artifact for the learner, e.g.
// "Arrow file readings.arrow". An error read returns is returned as it
// is: the grader has already decided whose fault that one is.
//
// Only panics on the calling goroutine are recovered, so a decoder that
// works in goroutines of its own must not be given learner data.
func ReadArtifact(what string, read func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Unreadable(what, "%s", panicCause(p))
		}
	}()
	return read()
}

// Unreadable is the Failure for an artifact a grader cannot read:
// "your <what> could not be read: <cause>". Graders use it for the bounds
// they check themselves, so that those read like the panics ReadArtifact
// recovers, only more precise.
func Unreadable(what, format string, args ...any) *Failure {
	return &Failure{Message: "your " + what + " could not be read: " + fmt.Sprintf(format, args...)}
}

// UnmarshalArtifact is json.Unmarshal under ReadArtifact, for JSON the
// learner's code produced: a value it returned (as the harness captured
// it) or a record it put on a topic. The error of json.Unmarshal comes
// back as it is, for the grader to judge.
func UnmarshalArtifact(what string, data []byte, v any) error {
	return ReadArtifact(what, func() error { return json.Unmarshal(data, v) })
}

// panicCause is what a recovered panic says, for the learner. A runtime
// error ("index out of range [7] with length 3") says what the file got
// wrong as well as anything the grader could add.
func panicCause(p any) string {
	switch v := p.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return fmt.Sprint(p)
}

// OpenArtifact opens the file the learner's code wrote at path, after
// checking that it is a regular file of at most limit bytes
// (MaxArtifactBytes if limit is 0): a FIFO would block the grader, a
// device like /dev/zero never ends, and a file of gigabytes is no answer
// to any lab. Those come back as a *Failure. A missing file comes back as
// the error of os.Stat (fs.ErrNotExist), so that the grader can say which
// function should have written it. It also returns the file's size.
func OpenArtifact(what, path string, limit int64) (*os.File, int64, error) {
	if limit <= 0 {
		limit = MaxArtifactBytes
	}
	// Stat before opening: opening a FIFO for reading blocks until someone
	// writes to it.
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := checkArtifactFile(what, st, limit); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	// The file could have been swapped since; what is open is what counts.
	if st, err = f.Stat(); err == nil {
		err = checkArtifactFile(what, st, limit)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func checkArtifactFile(what string, st os.FileInfo, limit int64) error {
	if !st.Mode().IsRegular() {
		return Unreadable(what, "it is not a regular file (%s)", st.Mode().Type())
	}
	if st.Size() > limit {
		return Unreadable(what, "it is %s, and the checker reads files of at most %s", byteSize(st.Size()), byteSize(limit))
	}
	return nil
}

// ReadArtifactFile reads the whole file the learner's code wrote at path,
// with the checks of OpenArtifact.
func ReadArtifactFile(what, path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxArtifactBytes
	}
	f, size, err := OpenArtifact(what, path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A file that grows while it is read is cut at the limit, then refused.
	data := make([]byte, 0, size)
	buf := make([]byte, 32<<10)
	r := io.LimitReader(f, limit+1)
	for {
		n, err := r.Read(buf)
		data = append(data, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(data)) > limit {
		return nil, Unreadable(what, "it grew past %s while the checker read it", byteSize(limit))
	}
	return data, nil
}

// byteSize shows a size the way failure messages do: "12.0 MiB", "3 B".
func byteSize(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// Budget is a memory budget for a decoder reading an artifact. It has the
// methods of Arrow's memory.Allocator, so Arrow's and Parquet's readers
// take it (ipc.WithAllocator, parquet.NewReaderProperties): every buffer
// they size from what a file declares is then charged to the budget, and
// one that would take the live total past it panics with an error instead
// of being allocated. Under ReadArtifact that is the learner's failure,
// "decoding it needs more than 512.0 MiB", where a plain allocation of a
// declared 2^40 bytes would end the checker's process ("out of memory"
// cannot be recovered).
type Budget struct {
	mu          sync.Mutex
	limit, live int64
}

// NewBudget returns a Budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// budgetError says which allocation went over the budget.
type budgetError struct{ asked, live, limit int64 }

func (e *budgetError) Error() string {
	if e.asked < 0 {
		return fmt.Sprintf("it declares a buffer of %d bytes", e.asked)
	}
	return fmt.Sprintf("decoding it needs more than %s (it asks for a buffer of %d bytes with %s in use)", byteSize(e.limit), e.asked, byteSize(e.live))
}

// alignment is what Arrow's own Go allocator aligns buffers to; Arrow's
// readers cast buffers to typed slices and expect it.
const alignment = 64

func (b *Budget) charge(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n < 0 || b.live+n > b.limit {
		panic(&budgetError{asked: n, live: b.live, limit: b.limit})
	}
	b.live += n
}

func (b *Budget) credit(n int64) {
	b.mu.Lock()
	b.live = max(0, b.live-n)
	b.mu.Unlock()
}

// Allocate returns a zeroed, 64-byte aligned buffer of size bytes, or
// panics if the budget does not cover it.
func (b *Budget) Allocate(size int) []byte {
	b.charge(int64(size))
	buf := make([]byte, size+alignment)
	shift := 0
	if addr := uintptr(unsafe.Pointer(unsafe.SliceData(buf))); addr%alignment != 0 {
		shift = int(alignment - addr%alignment)
	}
	return buf[shift : shift+size : shift+size]
}

// Reallocate returns a buffer of size bytes holding buf's contents, as
// Arrow's allocators do.
func (b *Budget) Reallocate(size int, buf []byte) []byte {
	if size >= 0 && cap(buf) >= size {
		return buf[:size]
	}
	out := b.Allocate(size)
	copy(out, buf)
	b.Free(buf)
	return out
}

// Free gives buf's bytes back to the budget.
func (b *Budget) Free(buf []byte) { b.credit(int64(cap(buf))) }
