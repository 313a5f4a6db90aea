// Package compact is a wrong solution of hdfs/04-small-files: it deletes
// each original as soon as it is copied, while the part holding the copy
// is still open. The end state is right; a crash in between loses data.
//
// Read the lesson first: delab read hdfs/03
// Check your work:       delab check hdfs/04
package compact

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/hamba/avro/v2/ocf"
)

// Schema is the schema of every record in a part: one reading of one
// original file.
const Schema = `{
  "type": "record",
  "name": "Reading",
  "namespace": "delab.hdfs",
  "fields": [
    {"name": "file", "type": "string"},
    {"name": "ts", "type": "long"},
    {"name": "value", "type": "double"}
  ]
}`

// Reading is one line of an original file.
type Reading struct {
	File  string  `avro:"file"`
	TS    int64   `avro:"ts"`
	Value float64 `avro:"value"`
}

// Compact packs every file of inDir into Avro container files (parts) in
// outDir, writes outDir/index.csv, and then removes inDir. A part is closed
// once the original bytes in it reach partBytes; an original is never split.
func Compact(client *hdfs.Client, inDir, outDir string, partBytes int64) error {
	files, err := client.ReadDir(inDir)
	if err != nil {
		return fmt.Errorf("list %s: %w", inDir, err)
	}
	if err := client.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", outDir, err)
	}
	var (
		index   [][]string
		p       *part
		partNum int
	)
	for _, fi := range files {
		if fi.IsDir() {
			continue
		}
		if p == nil {
			if p, err = newPart(client, path.Join(outDir, fmt.Sprintf("part-%05d.avro", partNum))); err != nil {
				return err
			}
			partNum++
		}
		first := p.records
		n, err := p.add(client, path.Join(inDir, fi.Name()), fi.Name())
		if err != nil {
			p.abort()
			return err
		}
		index = append(index, []string{fi.Name(), path.Base(p.path), strconv.FormatInt(first, 10), strconv.FormatInt(n, 10)})
		if err := client.Remove(path.Join(inDir, fi.Name())); err != nil {
			return fmt.Errorf("remove %s: %w", fi.Name(), err)
		}
		p.bytes += fi.Size()
		if p.bytes >= partBytes {
			if err := p.close(); err != nil {
				return err
			}
			p = nil
		}
	}
	if p != nil {
		if err := p.close(); err != nil {
			return err
		}
	}
	if err := writeIndex(client, path.Join(outDir, "index.csv"), index); err != nil {
		return err
	}
	// Only now that every part and the index are complete are the
	// originals removed: a crash before this line loses nothing.
	// RemoveAll deletes for good; `hdfs dfs -rm` would move them to the
	// trash, where they still cost the NameNode memory.
	if err := client.RemoveAll(inDir); err != nil {
		return fmt.Errorf("remove %s: %w", inDir, err)
	}
	return nil
}

// part is one Avro container file being written.
type part struct {
	path    string
	w       *hdfs.FileWriter
	enc     *ocf.Encoder
	records int64 // records written so far
	bytes   int64 // original bytes packed so far
}

func newPart(client *hdfs.Client, p string) (*part, error) {
	w, err := client.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	enc, err := ocf.NewEncoder(Schema, w, ocf.WithCodec(ocf.Deflate))
	if err != nil {
		w.Close()
		return nil, err
	}
	return &part{path: p, w: w, enc: enc}, nil
}

// add streams the readings of the original at src into the part and
// returns how many it wrote.
func (p *part) add(client *hdfs.Client, src, name string) (int64, error) {
	r, err := client.Open(src)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", src, err)
	}
	defer r.Close()
	var n int64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		tsText, valueText, ok := strings.Cut(line, ",")
		if !ok {
			return n, fmt.Errorf("%s: line %q is not ts,value", src, line)
		}
		ts, err1 := strconv.ParseInt(tsText, 10, 64)
		v, err2 := strconv.ParseFloat(valueText, 64)
		if err := errors.Join(err1, err2); err != nil {
			return n, fmt.Errorf("%s: line %q: %w", src, line, err)
		}
		if err := p.enc.Encode(Reading{File: name, TS: ts, Value: v}); err != nil {
			return n, err
		}
		n++
		p.records++
	}
	return n, sc.Err()
}

// close flushes the encoder's last block, then completes the HDFS file.
func (p *part) close() error {
	if err := p.enc.Close(); err != nil {
		p.w.Close()
		return fmt.Errorf("finish %s: %w", p.path, err)
	}
	return closeFile(p.w)
}

func (p *part) abort() { p.w.Close() }

func writeIndex(client *hdfs.Client, p string, rows [][]string) error {
	w, err := client.Create(p)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"name", "part", "first", "count"})
	_ = cw.WriteAll(rows)
	if err := cw.Error(); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	return closeFile(w)
}

// closeFile completes an HDFS file, retrying while the NameNode waits for
// the last block's replicas (lesson hdfs/00, "Closing a file is part of
// writing it").
func closeFile(w io.Closer) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || attempt == 8 {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}
