// Package publish publishes a day of readings to HDFS so that readers
// never see half of it.
//
// Read the lesson first: delab read hdfs/04
// Check your work:       delab check hdfs/05
//
// WRONG: removes only its own attempt folder: what a killed attempt staged stays in <out>/_temporary forever.
package publish

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// PartLines is how many readings one part file holds (the last part of a
// device holds the rest).
const PartLines = 200

// Publish reads the day's readings from the local file src, one reading a
// line ("device,time,watts"), and publishes them under out:
//
//	<out>/date=<day>/device=<device>/part-00000, part-00001, …
//	<out>/date=<day>/_SUCCESS
//
// Each device's lines go, in input order, PartLines to a part file. The
// day is staged under <out>/_temporary/<attempt>/ and renamed into place
// in one step, _SUCCESS inside it; a day already published is replaced.
// Nothing is left under <out>/_temporary when Publish returns nil.
func Publish(client *hdfs.Client, src, out, day string) error {
	devices, order, err := readDevices(src)
	if err != nil {
		return err
	}
	temporary := out + "/_temporary"
	attempt := fmt.Sprintf("%s/attempt-%d-%d", temporary, time.Now().UnixNano(), os.Getpid())
	staged := attempt + "/date=" + day
	for _, device := range order {
		lines := devices[device]
		dir := staged + "/device=" + device
		if err := client.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for part := 0; part*PartLines < len(lines); part++ {
			chunk := lines[part*PartLines : min(len(lines), (part+1)*PartLines)]
			if err := writeFile(client, fmt.Sprintf("%s/part-%05d", dir, part), []byte(strings.Join(chunk, ""))); err != nil {
				return err
			}
		}
	}
	// _SUCCESS last: the staged day is complete.
	// A day with no readings has no device folder: make the day's.
	if err := client.MkdirAll(staged, 0o755); err != nil {
		return err
	}
	if err := writeFile(client, staged+"/_SUCCESS", nil); err != nil {
		return err
	}
	final := out + "/date=" + day
	// A day published before (a re-run, a backfill) is moved aside first:
	// rename does not replace a directory that has files in it.
	if _, err := client.Stat(final); err == nil {
		if err := client.Rename(final, attempt+"/replaced"); err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	if err := client.Rename(staged, final); err != nil {
		return err
	}
	// Clean up after ourselves.
	_ = temporary
	return client.RemoveAll(attempt)
}

// readDevices groups the lines of src by device, keeping input order.
func readDevices(src string) (map[string][]string, []string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, nil, err
	}
	devices := map[string][]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		device, _, ok := strings.Cut(line, ",")
		if !ok {
			return nil, nil, fmt.Errorf("not a reading: %q", line)
		}
		if _, seen := devices[device]; !seen {
			order = append(order, device)
		}
		devices[device] = append(devices[device], line+"\n")
	}
	return devices, order, sc.Err()
}

// writeFile creates path with data, closing it as the lesson shows.
func writeFile(client *hdfs.Client, path string, data []byte) error {
	w, err := client.Create(path)
	if err != nil {
		return err
	}
	// An empty file (_SUCCESS) gets no Write: a Write, even of nothing,
	// allocates a block, and an empty block can keep Close replicating.
	if len(data) > 0 {
		if _, err := w.Write(data); err != nil {
			w.Close()
			return err
		}
	}
	for delay := 50 * time.Millisecond; ; delay *= 2 {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || delay > 2*time.Second {
			return err
		}
		time.Sleep(delay)
	}
}
