package dataframes

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// The contract the lesson states (section "Your lab: a daily report").
const (
	// low and high bound a valid reading, both kept.
	low, high = -40.0, 125.0
	// meanTolerance is how far (relative, or absolute below 1) a mean may
	// be from the checker's: Spark adds in another order.
	meanTolerance = 1e-9
	// reportDays is how many days have kept events; one more day has
	// only out-of-range readings.
	reportDays = 5
	// files is how many Parquet files the checker writes the events in.
	files = 2
)

// sites are the sensor sites; each run shuffles them.
var sites = []string{"airport", "bank", "campus", "depot", "expo", "ferry", "garage", "harbour", "iris-tower", "junction", "kiln", "lighthouse"}

// key is one row of the report: a site on a UTC day.
type key struct{ site, day string }

func (k key) String() string { return fmt.Sprintf("site %s on %s", k.site, k.day) }

// stats is what the report says of one site and day.
type stats struct {
	events, readings int64
	min, max, sum    float64
}

// mean is the mean of the non-null readings, NaN when there are none.
func (s stats) mean() float64 {
	if s.readings == 0 {
		return math.NaN()
	}
	return s.sum / float64(s.readings)
}

// boundary is one rule the lesson teaches, the input that exercises it in
// every run, and the row it decides.
type boundary struct {
	rule   string // what the lesson says
	input  string // what the checker put in the events
	row    key    // the report row the rule decides (no site: a whole day)
	absent bool   // the rule says that row is not in the report
}

// dataset is the events a check writes and the report they make.
type dataset struct {
	events     int
	days       []string // the days with kept events, sorted
	deadDay    string   // the day whose events are all dropped
	truth      map[key]stats
	boundaries []boundary
	files      [][]byte // the Parquet files
}

// eventSchema is the events' schema: ts is a UTC instant (Spark's
// TIMESTAMP), reading is null when the sensor sent none.
var eventSchema = arrow.NewSchema([]arrow.Field{
	{Name: "event_id", Type: arrow.BinaryTypes.String},
	{Name: "site", Type: arrow.BinaryTypes.String},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "reading", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// event is one row of the input.
type event struct {
	site    int
	ts      int64 // microseconds since the epoch, UTC
	reading float64
	null    bool
}

const dayMicros = int64(24 * time.Hour / time.Microsecond)

// generate makes n random events (plus the boundary cases) over
// reportDays+1 days and the report they make. Every boundary case is in
// every run, whatever the seed; only sites, days and values vary.
func generate(seed uint64, n int) (*dataset, error) {
	r := rand.New(rand.NewPCG(seed, 2))
	names := append([]string(nil), sites...)
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(300)).UnixMicro()
	dayOf := func(d int) string { return time.UnixMicro(first + int64(d)*dayMicros).UTC().Format(time.DateOnly) }
	at := func(site, d int) key { return key{names[site], dayOf(d)} }
	inRange := func() float64 {
		for {
			// Three decimals, strictly inside the range: only the
			// boundary cases sit on a bound.
			if v := math.Round((low+r.Float64()*(high-low))*1000) / 1000; v != low && v != high {
				return v
			}
		}
	}
	outOfRange := func() float64 {
		if r.IntN(2) == 0 {
			return low - 0.001 - r.Float64()*60
		}
		return high + 0.001 + r.Float64()*60
	}

	// The boundary cases. Site 0 holds the midnight pair on days m and
	// m+1; sites 1..6 one case each on a random day. Rows marked reserved
	// get no random events, so that they hold exactly what the case put.
	m := r.IntN(reportDays - 1)
	day := func() int { return r.IntN(reportDays) }
	var special []event
	reserved := map[int]bool{} // site*reportDays+day
	var bs []boundary
	add := func(b boundary, reserve bool, evs ...event) {
		bs = append(bs, b)
		special = append(special, evs...)
		if reserve {
			for _, e := range evs {
				reserved[e.site*reportDays+int((e.ts-first)/dayMicros)] = true
			}
		}
	}
	noon := func(d int) int64 { return first + int64(d)*dayMicros + dayMicros/2 + r.Int64N(dayMicros/4) }
	d1, d2, d3, d4, d5, d6 := day(), day(), day(), day(), day(), day()
	add(boundary{"null readings are events (counted in events) but not readings (not in readings, min, max, mean)", "3 events, all with a null reading", at(5, d5), false}, true,
		event{site: 5, ts: noon(d5), null: true}, event{site: 5, ts: noon(d5), null: true}, event{site: 5, ts: noon(d5), null: true})
	add(boundary{"a reading of exactly -40.0 is valid (kept, the row's min)", "reading -40.0", at(1, d1), false}, false, event{site: 1, ts: noon(d1), reading: low})
	add(boundary{"a reading of exactly 125.0 is valid (kept, the row's max)", "reading 125.0", at(2, d2), false}, false, event{site: 2, ts: noon(d2), reading: high})
	add(boundary{"a reading just below -40.0 is dropped", "reading " + strconv.FormatFloat(math.Nextafter(low, -200), 'g', -1, 64), at(3, d3), false}, false, event{site: 3, ts: noon(d3), reading: math.Nextafter(low, -200)})
	add(boundary{"a reading just above 125.0 is dropped", "reading " + strconv.FormatFloat(math.Nextafter(high, 300), 'g', -1, 64), at(4, d4), false}, false, event{site: 4, ts: noon(d4), reading: math.Nextafter(high, 300)})
	add(boundary{"a site and day none of whose events is kept has no row", "3 events, all out of range", at(6, d6), true}, true,
		event{site: 6, ts: noon(d6), reading: outOfRange()}, event{site: 6, ts: noon(d6), reading: outOfRange()}, event{site: 6, ts: noon(d6), reading: outOfRange()})
	add(boundary{"the day is the UTC day: 23:59:59.999999 is still that day", "one event at " + dayOf(m+1) + " 00:00:00 minus 1 µs", at(0, m), false}, true,
		event{site: 0, ts: first + int64(m+1)*dayMicros - 1, reading: inRange()})
	add(boundary{"the day is the UTC day: 00:00:00.000000 starts the next one", "one event at " + dayOf(m+1) + " 00:00:00", at(0, m+1), false}, true,
		event{site: 0, ts: first + int64(m+1)*dayMicros, reading: inRange()})
	dead := reportDays
	add(boundary{"a day with no kept event has no day= folder", "events on " + dayOf(dead) + ", all out of range", key{"", dayOf(dead)}, true}, false)

	// Where the special events go among the random ones: at distinct
	// positions, in increasing order.
	total := n + len(special)
	taken := map[int]bool{}
	var slots []int
	for range special {
		p := r.IntN(total)
		for taken[p] {
			p = r.IntN(total)
		}
		taken[p] = true
		slots = append(slots, p)
	}
	sort.Ints(slots)

	counts := make([]stats, len(names)*(reportDays+1))
	keep := func(e event) {
		if !e.null && (e.reading < low || e.reading > high) {
			return
		}
		s := &counts[e.site*(reportDays+1)+int((e.ts-first)/dayMicros)]
		s.events++
		if e.null {
			return
		}
		if s.readings == 0 || e.reading < s.min {
			s.min = e.reading
		}
		if s.readings == 0 || e.reading > s.max {
			s.max = e.reading
		}
		s.readings++
		s.sum += e.reading
	}
	random := func() event {
		if r.IntN(100) == 0 { // the dead day: a broken feed
			return event{site: r.IntN(len(names)), ts: first + int64(dead)*dayMicros + r.Int64N(dayMicros), reading: outOfRange()}
		}
		for {
			site, d := r.IntN(len(names)), r.IntN(reportDays)
			if reserved[site*reportDays+d] {
				continue
			}
			e := event{site: site, ts: first + int64(d)*dayMicros + r.Int64N(dayMicros)}
			switch p := r.IntN(100); {
			case p < 5:
				e.null = true
			case p < 10:
				e.reading = outOfRange()
			default:
				e.reading = inRange()
			}
			return e
		}
	}

	ds := &dataset{events: total, deadDay: dayOf(dead), truth: map[key]stats{}, boundaries: bs}
	per := (total + files - 1) / files
	var id [16]byte
	idBase := r.Uint64N(1 << 40)
	for f, next := 0, 0; f < files; f++ {
		var buf bytes.Buffer
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(256<<10))
		w, err := pqarrow.NewFileWriter(eventSchema, &buf, props, pqarrow.DefaultWriterProps())
		if err != nil {
			return nil, err
		}
		for end := min(total, next+per); next < end; {
			b := array.NewRecordBuilder(memory.DefaultAllocator, eventSchema)
			ids, ss := b.Field(0).(*array.StringBuilder), b.Field(1).(*array.StringBuilder)
			ts, rs := b.Field(2).(*array.TimestampBuilder), b.Field(3).(*array.Float64Builder)
			for batchEnd := min(end, next+64<<10); next < batchEnd; next++ {
				var e event
				if len(slots) > 0 && slots[0] == next {
					e, special, slots = special[0], special[1:], slots[1:]
				} else {
					e = random()
				}
				keep(e)
				ids.BinaryBuilder.Append(strconv.AppendUint(append(id[:0], 'e'), idBase+uint64(next), 36))
				ss.Append(names[e.site])
				ts.Append(arrow.Timestamp(e.ts))
				if e.null {
					rs.AppendNull()
				} else {
					rs.Append(e.reading)
				}
			}
			rec := b.NewRecord()
			err := w.Write(rec)
			rec.Release()
			b.Release()
			if err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		ds.files = append(ds.files, buf.Bytes())
	}
	seen := map[string]bool{}
	for i, s := range counts {
		if s.events == 0 {
			continue
		}
		k := key{names[i/(reportDays+1)], dayOf(i % (reportDays + 1))}
		ds.truth[k] = s
		if !seen[k.day] {
			seen[k.day] = true
			ds.days = append(ds.days, k.day)
		}
	}
	sort.Strings(ds.days)
	return ds, nil
}
