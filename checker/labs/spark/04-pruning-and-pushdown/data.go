package pruning

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// Sizes: a year of events from nDevices devices, perDay random events a
// day. The raw file the checker writes is about 3 MB: large next to one
// week of one device, small enough that a warm check stays quick.
const (
	nDevices = 400
	perDay   = 12000
	days     = 28
	weekDays = 7
)

// eventSchema is the raw events' schema: ts is a UTC instant (Spark's
// TIMESTAMP), reading a whole number.
var eventSchema = arrow.NewSchema([]arrow.Field{
	{Name: "device_id", Type: arrow.BinaryTypes.String},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "reading", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// event is one raw event.
type event struct {
	device  string
	ts      int64 // microseconds since the epoch, UTC
	reading int64
}

// dayTotal is one row of the week's report: the device's events on one
// UTC day.
type dayTotal struct {
	Day    string `json:"day"`
	Events int64  `json:"events"`
	Total  int64  `json:"total"`
}

// boundary is one rule the lesson teaches and the event that exercises it
// in every run.
type boundary struct {
	rule  string
	input string
	day   string // the report row the event decides ("" if none)
	in    bool   // whether the event counts
}

// dataset is one run's input and answer.
type dataset struct {
	year       int
	device     string // the device the query asks about
	from       string // the week's first day, YYYY-MM-DD
	events     []event
	truth      []dayTotal // by day
	dayCount   int        // days with events
	boundaries []boundary
}

const dayMicros = int64(24 * time.Hour / time.Microsecond)

func deviceName(i int) string { return fmt.Sprintf("dev-%04d", i) }

// generate makes a year of events and the week's answer. Whatever the
// seed, the device's week holds every boundary: events at the week's
// first instant (counted) and just before it (not), at its last
// microsecond (counted) and at the next day's midnight (not); events of
// the devices next to it in sort order (dev-0040 and dev-0042 around
// dev-0041, and dev-0041x, which starts with its name) on every day of the
// week (not counted); and one day of the week with no event of the device
// (no row).
func generate(seed uint64) *dataset {
	r := rand.New(rand.NewPCG(seed, 4))
	year := 2024 + r.IntN(3)
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	dev := 1 + r.IntN(nDevices-2)
	// The week starts at least a week into the year and ends a week
	// before its end: the days on both sides hold the device's events.
	first := 8 + r.IntN(days-weekDays-15)
	empty := 1 + r.IntN(weekDays-2) // a day inside the week without the device
	ds := &dataset{year: year, device: deviceName(dev)}
	dayOf := func(d int) string {
		return time.UnixMicro(start + int64(d)*dayMicros).UTC().Format(time.DateOnly)
	}
	ds.from = dayOf(first)
	weekStart, weekEnd := start+int64(first)*dayMicros, start+int64(first+weekDays)*dayMicros
	reading := func() int64 { return int64(r.IntN(10_000)) - 1000 }

	var special []event
	add := func(b boundary, e event) {
		ds.boundaries = append(ds.boundaries, b)
		special = append(special, e)
	}
	add(boundary{"the week starts at its first day's midnight, which counts", "an event of " + ds.device + " at " + dayOf(first) + " 00:00:00", dayOf(first), true},
		event{ds.device, weekStart, reading()})
	add(boundary{"the microsecond before the week is the day before: not counted", "an event of " + ds.device + " at " + dayOf(first) + " 00:00:00 minus 1 µs", dayOf(first - 1), false},
		event{ds.device, weekStart - 1, reading()})
	add(boundary{"the week's last microsecond counts", "an event of " + ds.device + " at " + dayOf(first+weekDays) + " 00:00:00 minus 1 µs", dayOf(first + weekDays - 1), true},
		event{ds.device, weekEnd - 1, reading()})
	add(boundary{"the week ends before the eighth day's midnight: 7 days, not 8", "an event of " + ds.device + " at " + dayOf(first+weekDays) + " 00:00:00", dayOf(first + weekDays), false},
		event{ds.device, weekEnd, reading()})
	neighbours := []string{deviceName(dev - 1), deviceName(dev + 1), ds.device + "x"}
	for _, n := range neighbours {
		for d := 0; d < weekDays; d++ {
			special = append(special, event{n, weekStart + int64(d)*dayMicros + r.Int64N(dayMicros), reading()})
		}
	}
	ds.boundaries = append(ds.boundaries, boundary{"only the device itself counts, not its neighbours in sort order", "events of " + fmt.Sprint(neighbours) + " on every day of the week", "", false})
	ds.boundaries = append(ds.boundaries, boundary{"a day of the week without an event of the device has no row", "no event of " + ds.device + " on " + dayOf(first+empty), dayOf(first + empty), false})
	// The device's own events: a few on every other day of the week, and
	// on days around it.
	for d := first - 7; d < first+weekDays+7; d++ {
		if d == first+empty {
			continue
		}
		for k := 1 + r.IntN(4); k > 0; k-- {
			special = append(special, event{ds.device, start + int64(d)*dayMicros + r.Int64N(dayMicros), reading()})
		}
	}

	evs := make([]event, 0, days*perDay+len(special))
	for d := 0; d < days; d++ {
		for k := 0; k < perDay; k++ {
			i := r.IntN(nDevices)
			if i == dev {
				continue // the device's events are all above
			}
			evs = append(evs, event{deviceName(i), start + int64(d)*dayMicros + r.Int64N(dayMicros), reading()})
		}
	}
	evs = append(evs, special...)
	// The raw file is in no useful order: its one row group spans every
	// device and every day, so nothing in it can be skipped.
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	ds.events = evs

	byDay := map[string]*dayTotal{}
	seen := map[int64]bool{}
	for _, e := range evs {
		seen[(e.ts-start)/dayMicros] = true
		if e.device != ds.device || e.ts < weekStart || e.ts >= weekEnd {
			continue
		}
		day := time.UnixMicro(e.ts).UTC().Format(time.DateOnly)
		t := byDay[day]
		if t == nil {
			t = &dayTotal{Day: day}
			byDay[day] = t
		}
		t.Events++
		t.Total += e.reading
	}
	ds.dayCount = len(seen)
	for _, t := range byDay {
		ds.truth = append(ds.truth, *t)
	}
	sort.Slice(ds.truth, func(i, j int) bool { return ds.truth[i].Day < ds.truth[j].Day })
	return ds
}

// rawParquet writes the events, in their order, as one Parquet file of
// one row group: the naive layout every query has to read whole.
func rawParquet(evs []event) ([]byte, error) {
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(1<<20))
	w, err := pqarrow.NewFileWriter(eventSchema, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, eventSchema)
	defer b.Release()
	ids, ts, rs := b.Field(0).(*array.StringBuilder), b.Field(1).(*array.TimestampBuilder), b.Field(2).(*array.Int64Builder)
	for _, e := range evs {
		ids.Append(e.device)
		ts.Append(arrow.Timestamp(e.ts))
		rs.Append(e.reading)
	}
	rec := b.NewRecord()
	err = w.Write(rec) // one Write, one row group
	rec.Release()
	if err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
