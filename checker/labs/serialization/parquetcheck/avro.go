package parquetcheck

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hamba/avro/v2"
	"github.com/klauspost/compress/zstd"
)

// hamba/avro's container decoder trusts the lengths a file declares: it
// allocates each block at the size its header claims before it reads it,
// inflates a block whole whatever it inflates to, builds a decoder for
// a fixed of the size the file's schema claims, and loops as many times as
// a block claims records, which for records that take no bytes is as many
// as a long can count. Any of those can take the checker's process past
// its memory ("out of memory" ends it, recover or not) or hold it for
// good. CheckAvroContainer reads the container's structure first and
// refuses such a file with an error the grader shows the learner.

// AvroLimits bound what CheckAvroContainer accepts. A lab's files hold at
// most tens of thousands of small records.
type AvroLimits struct {
	// Block bounds what one block may inflate to.
	Block int64
	// Total bounds what all blocks inflate to together.
	Total int64
	// Records bounds the records of all blocks together.
	Records int64
}

// DefaultAvroLimits are far above any file a lab asks for.
var DefaultAvroLimits = AvroLimits{Block: 16 << 20, Total: 64 << 20, Records: 1_000_000}

// maxFixed is the largest fixed type a file's schema may declare: the
// decoder allocates one at its declared size.
const maxFixed = 1 << 20

var avroMagic = []byte{'O', 'b', 'j', 1}

// CheckAvroContainer checks the Avro object container file data as
// hamba/avro's decoder will read it: its header, its schema, and the
// header of every block. An error says, for the learner, what is wrong
// with the file. A nil error does not mean the file is valid, only that
// decoding it costs what its size and lim allow; the decoder says the
// rest.
func CheckAvroContainer(data []byte, lim AvroLimits) error {
	if !bytes.HasPrefix(data, avroMagic) {
		return nil // the decoder refuses it before it reads further
	}
	r := &avroBytes{b: data, p: len(avroMagic)}
	meta, err := r.metadata()
	if err != nil {
		return fmt.Errorf("its header: %w", err)
	}
	if _, err := r.next(16); err != nil {
		return fmt.Errorf("its header's sync marker: %w", err)
	}
	// A cache of its own: the decoder parses with hamba's process-wide
	// cache, where a schema that only names a type would find the type a
	// file read earlier defined, unchecked. A file written by any Avro
	// writer defines every type it names.
	schema, err := avro.ParseBytesWithCache(meta["avro.schema"], "", &avro.SchemaCache{})
	if err != nil {
		return fmt.Errorf("its schema: %w", err)
	}
	if err := checkAvroSchema(schema, map[string]bool{}); err != nil {
		return fmt.Errorf("its schema: %w", err)
	}
	codec := string(meta["avro.codec"])
	var total, records int64
	for i := 0; r.p < len(r.b); i++ {
		count, err1 := r.long()
		size, err2 := r.long()
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("block %d: %w", i, err)
		}
		if count < 0 || size < 0 {
			return fmt.Errorf("block %d claims %d records in %d bytes", i, count, size)
		}
		block, err := r.next(size)
		if err != nil {
			return fmt.Errorf("block %d claims %d bytes: %w", i, size, err)
		}
		if _, err := r.next(16); err != nil {
			return fmt.Errorf("block %d's sync marker: %w", i, err)
		}
		if records += count; records > lim.Records {
			return fmt.Errorf("its blocks claim more than %d records", lim.Records)
		}
		if count == 0 {
			continue // the decoder skips it
		}
		n, err := inflated(codec, block, lim.Block)
		if err != nil {
			return fmt.Errorf("block %d: %w", i, err)
		}
		if total += n; total > lim.Total {
			return fmt.Errorf("its blocks hold more than %d bytes uncompressed", lim.Total)
		}
	}
	return nil
}

// inflated is how many bytes block holds once the codec has uncompressed
// it, checked against limit before anything of that size is allocated.
func inflated(codec string, block []byte, limit int64) (int64, error) {
	tooBig := func(n any) error {
		return fmt.Errorf("it uncompresses to %v bytes, more than the %d the checker reads in a block", n, limit)
	}
	var n int64
	switch codec {
	case "", "null":
		n = int64(len(block))
	case "deflate":
		got, err := io.Copy(io.Discard, io.LimitReader(flate.NewReader(bytes.NewReader(block)), limit+1))
		if err != nil {
			return 0, fmt.Errorf("it does not inflate: %w", err)
		}
		n = got
	case "snappy":
		// Snappy's block format starts with its uncompressed length; the
		// decoder allocates that much. Avro adds a 4-byte checksum.
		if len(block) < 4 {
			return 0, errors.New("it is too short for a snappy block and its checksum")
		}
		u, k := binary.Uvarint(block[:len(block)-4])
		if k <= 0 {
			return 0, errors.New("its snappy length is not a number")
		}
		if u > uint64(limit) {
			return 0, tooBig(u)
		}
		n = int64(u)
	case "zstandard":
		dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return 0, err
		}
		defer dec.Close()
		out, err := dec.DecodeAll(block, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return 0, tooBig("more than that")
		}
		if err != nil {
			return 0, fmt.Errorf("it does not uncompress: %w", err)
		}
		n = int64(len(out))
	default:
		return 0, nil // the decoder refuses a codec it does not know
	}
	if n > limit {
		return 0, tooBig(fmt.Sprintf("at least %d", n))
	}
	return n, nil
}

// checkAvroSchema refuses what would make the decoder allocate or loop
// without reading: a fixed of gigabytes, and an array whose items take no
// bytes (a block of 2^62 nulls is a few bytes of file).
func checkAvroSchema(s avro.Schema, seen map[string]bool) error {
	if n, ok := s.(avro.NamedSchema); ok {
		if seen[n.FullName()] {
			return nil
		}
		seen[n.FullName()] = true
	}
	switch s := s.(type) {
	case *avro.RefSchema:
		return checkAvroSchema(s.Schema(), seen)
	case *avro.FixedSchema:
		if s.Size() > maxFixed {
			return fmt.Errorf("fixed %s is %d bytes; the checker reads fixed values of at most %d", s.FullName(), s.Size(), maxFixed)
		}
	case *avro.RecordSchema:
		for _, f := range s.Fields() {
			if err := checkAvroSchema(f.Type(), seen); err != nil {
				return err
			}
		}
	case *avro.UnionSchema:
		for _, t := range s.Types() {
			if err := checkAvroSchema(t, seen); err != nil {
				return err
			}
		}
	case *avro.MapSchema:
		return checkAvroSchema(s.Values(), seen)
	case *avro.ArraySchema:
		if takesNoBytes(s.Items(), map[string]bool{}) {
			return fmt.Errorf("an array's items (%s) take no bytes, so a few bytes could claim any number of them", s.Items().Type())
		}
		return checkAvroSchema(s.Items(), seen)
	}
	return nil
}

// takesNoBytes says whether a value of s can be encoded in no bytes.
func takesNoBytes(s avro.Schema, visiting map[string]bool) bool {
	switch s := s.(type) {
	case *avro.NullSchema:
		return true
	case *avro.FixedSchema:
		return s.Size() == 0
	case *avro.RefSchema:
		return takesNoBytes(s.Schema(), visiting)
	case *avro.RecordSchema:
		if visiting[s.FullName()] {
			return false // a record that holds itself always takes bytes
		}
		visiting[s.FullName()] = true
		defer delete(visiting, s.FullName())
		for _, f := range s.Fields() {
			if !takesNoBytes(f.Type(), visiting) {
				return false
			}
		}
		return true
	}
	return false
}

// avroBytes reads Avro's binary encoding with every length checked.
type avroBytes struct {
	b []byte
	p int
}

var errCutShort = errors.New("the file ends first")

// long reads a zig-zag varint long.
func (r *avroBytes) long() (int64, error) {
	var u uint64
	for shift := 0; shift < 64; shift += 7 {
		if r.p >= len(r.b) {
			return 0, errCutShort
		}
		c := r.b[r.p]
		r.p++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errors.New("a number is longer than a long")
}

// next returns the next n bytes.
func (r *avroBytes) next(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(r.b)-r.p) {
		return nil, errCutShort
	}
	out := r.b[r.p : r.p+int(n)]
	r.p += int(n)
	return out, nil
}

// metadata reads the header's map of bytes.
func (r *avroBytes) metadata() (map[string][]byte, error) {
	meta := map[string][]byte{}
	for {
		count, err := r.long()
		if err != nil {
			return nil, err
		}
		if count == 0 {
			return meta, nil
		}
		if count < 0 {
			count = -count
			if _, err := r.long(); err != nil { // the block's size in bytes
				return nil, err
			}
		}
		for ; count > 0; count-- {
			kn, err := r.long()
			if err != nil {
				return nil, err
			}
			k, err := r.next(kn)
			if err != nil {
				return nil, err
			}
			vn, err := r.long()
			if err != nil {
				return nil, err
			}
			v, err := r.next(vn)
			if err != nil {
				return nil, err
			}
			meta[string(k)] = v
		}
	}
}
