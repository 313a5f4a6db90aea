package parquetcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Arrow's Go reader trusts the flatbuffers of an IPC file: it sizes slices
// by the lengths of their vectors (make([]arrow.Field, n) for a field's
// children) and follows a field's children wherever they point. A file of
// a few KiB can therefore declare billions of fields, which the Go runtime
// cannot allocate ("fatal error: out of memory" ends the whole process,
// recover or not), or a field that is its own child, which recurses until
// the stack overflows (just as fatal). CheckArrowFile walks the same
// flatbuffers first, with every offset checked, and refuses such a file
// with an error the grader shows the learner.

// ArrowLimits bound what CheckArrowFile accepts. A lab's files hold a
// handful of flat columns in a few record batches.
type ArrowLimits struct {
	// Depth is how deep fields may nest.
	Depth int
	// Fields is how many fields (at every depth) the schema may have, and
	// how many custom metadata entries the file may have.
	Fields int
	// Blocks is how many record batches and dictionaries the file may have.
	Blocks int
	// Uncompressed bounds the sum of the sizes compressed buffers declare
	// they uncompress to.
	Uncompressed int64
}

// DefaultArrowLimits are far above any file a lab asks for.
var DefaultArrowLimits = ArrowLimits{Depth: 32, Fields: 4096, Blocks: 1 << 16, Uncompressed: 256 << 20}

var arrowMagic = []byte("ARROW1")

// CheckArrowFile checks the flatbuffers of the Arrow IPC file data as
// Arrow's reader will read them: the footer, the schema in it, and the
// metadata of every record batch and dictionary the footer lists. An
// error says, for the learner, what is wrong with the file. A nil error
// does not mean the file is valid, only that reading it costs what its
// size and lim allow; Arrow's reader says the rest.
func CheckArrowFile(data []byte, lim ArrowLimits) error {
	if len(data) <= 2*len(arrowMagic)+4 || string(data[len(data)-len(arrowMagic):]) != string(arrowMagic) {
		return nil // Arrow's reader refuses it before it reads any flatbuffer
	}
	size := int64(binary.LittleEndian.Uint32(data[len(data)-len(arrowMagic)-4:]))
	end := int64(len(data) - len(arrowMagic) - 4)
	if size <= 0 || size+int64(len(arrowMagic)) > end {
		return nil // likewise
	}
	footer := fbuf(data[end-size : end])
	root, err := footer.root()
	if err != nil {
		return fmt.Errorf("its footer: %w", err)
	}
	c := &arrowChecker{lim: lim}
	if schema, ok, err := root.table(1); err != nil {
		return fmt.Errorf("its footer's schema: %w", err)
	} else if ok {
		if err := c.schema(schema); err != nil {
			return fmt.Errorf("its footer's schema: %w", err)
		}
	}
	if err := c.metadata(root, 4); err != nil {
		return fmt.Errorf("its footer: %w", err)
	}
	for _, list := range []struct {
		name  string
		field int
	}{{"dictionary", 2}, {"record batch", 3}} {
		start, n, err := root.vector(list.field, 24)
		if err != nil {
			return fmt.Errorf("its footer's list of %ses: %w", list.name, err)
		}
		if c.blocks += n; c.blocks > lim.Blocks {
			return fmt.Errorf("its footer lists more than %d record batches and dictionaries", lim.Blocks)
		}
		for i := 0; i < n; i++ {
			p := start + 24*i
			blk := block{
				offset: int64(binary.LittleEndian.Uint64(footer[p:])),
				meta:   int64(int32(binary.LittleEndian.Uint32(footer[p+8:]))),
				body:   int64(binary.LittleEndian.Uint64(footer[p+16:])),
			}
			if err := c.block(data, blk); err != nil {
				return fmt.Errorf("%s %d: %w", list.name, i, err)
			}
		}
	}
	return nil
}

type block struct{ offset, meta, body int64 }

type arrowChecker struct {
	lim          ArrowLimits
	fields       int
	entries      int
	blocks       int
	uncompressed int64
}

// Arrow's flatbuffer schema (format/Schema.fbs, format/Message.fbs): the
// field numbers of the tables the reader reads.
const (
	typeUnion = 14
	// Message.header_type
	headerDictionaryBatch = 2
	headerRecordBatch     = 3
)

// schema: Schema { endianness, fields: [Field], custom_metadata, features }.
func (c *arrowChecker) schema(t fbTable) error {
	if err := c.fieldList(t, 1, 1); err != nil {
		return err
	}
	return c.metadata(t, 2)
}

// fieldList checks the vector of Field tables in field i of t.
func (c *arrowChecker) fieldList(t fbTable, i, depth int) error {
	start, n, err := t.vector(i, 4)
	if err != nil {
		return err
	}
	if depth > c.lim.Depth && n > 0 {
		return fmt.Errorf("its fields nest deeper than %d levels", c.lim.Depth)
	}
	if c.fields += n; c.fields > c.lim.Fields {
		return fmt.Errorf("it has more than %d fields", c.lim.Fields)
	}
	for k := 0; k < n; k++ {
		f, err := t.buf.indirect(start + 4*k)
		if err != nil {
			return fmt.Errorf("field %d: %w", k, err)
		}
		if err := c.field(f, depth); err != nil {
			return fmt.Errorf("field %d: %w", k, err)
		}
	}
	return nil
}

// field: Field { name, nullable, type_type, type, dictionary, children,
// custom_metadata }.
func (c *arrowChecker) field(t fbTable, depth int) error {
	if _, _, err := t.vector(0, 1); err != nil {
		return fmt.Errorf("its name: %w", err)
	}
	typ, ok, err := t.table(3)
	if err != nil {
		return fmt.Errorf("its type: %w", err)
	}
	if ok && t.u8(2) == typeUnion {
		// Union { mode, typeIds: [int] }
		if _, _, err := typ.vector(1, 4); err != nil {
			return fmt.Errorf("its union type ids: %w", err)
		}
	}
	if dict, ok, err := t.table(4); err != nil {
		return fmt.Errorf("its dictionary encoding: %w", err)
	} else if ok {
		// DictionaryEncoding { id, indexType: Int, isOrdered, dictionaryKind }
		if _, _, err := dict.table(1); err != nil {
			return fmt.Errorf("its dictionary's index type: %w", err)
		}
	}
	if err := c.fieldList(t, 5, depth+1); err != nil {
		return fmt.Errorf("its children: %w", err)
	}
	return c.metadata(t, 6)
}

// metadata checks the vector of KeyValue { key, value } in field i of t.
func (c *arrowChecker) metadata(t fbTable, i int) error {
	start, n, err := t.vector(i, 4)
	if err != nil {
		return fmt.Errorf("its custom metadata: %w", err)
	}
	if c.entries += n; c.entries > c.lim.Fields {
		return fmt.Errorf("it has more than %d custom metadata entries", c.lim.Fields)
	}
	for k := 0; k < n; k++ {
		kv, err := t.buf.indirect(start + 4*k)
		if err == nil {
			_, _, err = kv.vector(0, 1)
		}
		if err == nil {
			_, _, err = kv.vector(1, 1)
		}
		if err != nil {
			return fmt.Errorf("its custom metadata entry %d: %w", k, err)
		}
	}
	return nil
}

// block checks one record batch or dictionary: where it lies, and the
// message at its start, as fileBlock.NewMessage reads it.
func (c *arrowChecker) block(data []byte, b block) error {
	size := int64(len(data))
	if b.offset < 0 || b.meta < 8 || b.body < 0 || b.offset > size || b.meta > size-b.offset || b.body > size-b.offset-b.meta {
		return fmt.Errorf("it claims %d bytes of metadata and %d of data at offset %d, outside the file's %d bytes", b.meta, b.body, b.offset, size)
	}
	meta := data[b.offset : b.offset+b.meta]
	body := data[b.offset+b.meta : b.offset+b.meta+b.body]
	switch binary.LittleEndian.Uint32(meta) {
	case 0:
	case 0xFFFFFFFF:
		meta = meta[8:]
	default:
		meta = meta[4:]
	}
	msg, err := fbuf(meta).root()
	if err != nil {
		return fmt.Errorf("its message: %w", err)
	}
	// Message { version, header_type, header, bodyLength, custom_metadata }
	if err := c.metadata(msg, 4); err != nil {
		return fmt.Errorf("its message: %w", err)
	}
	header, ok, err := msg.table(2)
	if err != nil || !ok {
		return errOrNil("its message's header", err)
	}
	switch msg.u8(1) {
	case headerDictionaryBatch:
		// DictionaryBatch { id, data: RecordBatch, isDelta }
		rb, ok, err := header.table(1)
		if err != nil || !ok {
			return errOrNil("its dictionary's data", err)
		}
		return c.recordBatch(rb, body)
	case headerRecordBatch:
		return c.recordBatch(header, body)
	}
	return nil
}

func errOrNil(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// recordBatch: RecordBatch { length, nodes: [FieldNode], buffers: [Buffer],
// compression, variadicBufferCounts: [long] }.
func (c *arrowChecker) recordBatch(t fbTable, body []byte) error {
	if _, _, err := t.vector(1, 16); err != nil {
		return fmt.Errorf("its field nodes: %w", err)
	}
	bufStart, nbufs, err := t.vector(2, 16)
	if err != nil {
		return fmt.Errorf("its buffers: %w", err)
	}
	// Arrow's reader makes room for 2 + n buffers for a view column whose
	// variadic count is n.
	vStart, nv, err := t.vector(4, 8)
	if err != nil {
		return fmt.Errorf("its variadic buffer counts: %w", err)
	}
	for k := 0; k < nv; k++ {
		if n := int64(binary.LittleEndian.Uint64(t.buf[vStart+8*k:])); n < 0 || n > int64(nbufs) {
			return fmt.Errorf("a view column claims %d variadic buffers of the batch's %d", n, nbufs)
		}
	}
	_, compressed, err := t.table(3)
	if err != nil {
		return fmt.Errorf("its compression: %w", err)
	}
	if !compressed {
		return nil
	}
	// A compressed buffer starts with the length it uncompresses to (-1:
	// stored as is); Arrow's reader allocates that much before it reads.
	for k := 0; k < nbufs; k++ {
		p := bufStart + 16*k
		off := int64(binary.LittleEndian.Uint64(t.buf[p:]))
		n := int64(binary.LittleEndian.Uint64(t.buf[p+8:]))
		if n == 0 {
			continue
		}
		if off < 0 || n < 8 || off > int64(len(body)) || n > int64(len(body))-off {
			return fmt.Errorf("buffer %d (%d bytes at offset %d) lies outside its %d bytes of data", k, n, off, len(body))
		}
		u := int64(binary.LittleEndian.Uint64(body[off:]))
		if u == -1 {
			continue
		}
		if u < 0 || u > c.lim.Uncompressed-c.uncompressed {
			return fmt.Errorf("its compressed buffers uncompress to more than %d bytes (buffer %d claims %d)", c.lim.Uncompressed, k, u)
		}
		c.uncompressed += u
	}
	return nil
}

// fbuf is a flatbuffer whose every offset is checked before it is used.
type fbuf []byte

// fbTable is a table of a flatbuffer at pos, its vtable at vt.
type fbTable struct {
	buf         fbuf
	pos, vt     int
	vtLen, size int
}

var errOutside = errors.New("an offset points outside the data")

func (b fbuf) u32(p int) (uint32, bool) {
	if p < 0 || p > len(b)-4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[p:]), true
}

func (b fbuf) u16(p int) (uint16, bool) {
	if p < 0 || p > len(b)-2 {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b[p:]), true
}

// root is the table the buffer's first offset points to.
func (b fbuf) root() (fbTable, error) { return b.indirect(0) }

// indirect is the table that the offset at p points to.
func (b fbuf) indirect(p int) (fbTable, error) {
	u, ok := b.u32(p)
	if !ok {
		return fbTable{}, errOutside
	}
	return b.table(p + int(u))
}

func (b fbuf) table(pos int) (fbTable, error) {
	so, ok := b.u32(pos)
	if !ok {
		return fbTable{}, errOutside
	}
	vt := pos - int(int32(so))
	vtLen, ok1 := b.u16(vt)
	size, ok2 := b.u16(vt + 2)
	if !ok1 || !ok2 || vtLen < 4 || vt+int(vtLen) > len(b) || pos+int(size) > len(b) {
		return fbTable{}, errOutside
	}
	return fbTable{buf: b, pos: pos, vt: vt, vtLen: int(vtLen), size: int(size)}, nil
}

// field is where field i of the table, size bytes long, lies; 0 if the
// table has none.
func (t fbTable) field(i, size int) (int, error) {
	o := 4 + 2*i
	if o+2 > t.vtLen {
		return 0, nil
	}
	off, _ := t.buf.u16(t.vt + o)
	if off == 0 {
		return 0, nil
	}
	// Flatbuffers' readers take the field as it is, wherever it lies.
	if t.pos+int(off) > len(t.buf)-size {
		return 0, errOutside
	}
	return t.pos + int(off), nil
}

func (t fbTable) u8(i int) byte {
	p, err := t.field(i, 1)
	if err != nil || p == 0 {
		return 0
	}
	return t.buf[p]
}

// table is the table field i points to; ok is false if it has none.
func (t fbTable) table(i int) (fbTable, bool, error) {
	p, err := t.field(i, 4)
	if err != nil || p == 0 {
		return fbTable{}, false, err
	}
	sub, err := t.buf.indirect(p)
	return sub, err == nil, err
}

// vector is the vector field i points to: where its elements start and
// how many there are, each elem bytes long, all inside the buffer.
func (t fbTable) vector(i, elem int) (start, n int, err error) {
	p, err := t.field(i, 4)
	if err != nil || p == 0 {
		return 0, 0, err
	}
	u, ok := t.buf.u32(p)
	if !ok {
		return 0, 0, errOutside
	}
	v := p + int(u)
	l, ok := t.buf.u32(v)
	if !ok {
		return 0, 0, errOutside
	}
	if int64(l)*int64(elem) > int64(len(t.buf)-v-4) {
		return 0, 0, fmt.Errorf("a list claims %d entries, more than its %d bytes of metadata hold", l, len(t.buf))
	}
	return v + 4, int(l), nil
}
