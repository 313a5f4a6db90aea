package joins

import (
	"bytes"
	"strings"
	"testing"
)

// Every seed's data exercises every rule the lesson teaches: the site
// table stays above the broadcast threshold, and the events include
// sensors, other kinds, devices missing from the device table and sites
// missing from the site table.
func TestEverySeedExercisesEveryRule(t *testing.T) {
	for _, seed := range []uint64{1, 2, 7, 1001, 123456789} {
		d := generate(seed)
		if len(d.sites) <= threshold {
			t.Errorf("seed %d: sites.csv is %d bytes, not above %d", seed, len(d.sites), threshold)
		}
		kinds := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(d.devices)), "\n")[1:] {
			id, k, _ := strings.Cut(l, ",")
			kinds[id] = k
		}
		var sensor, other, ghostDevice, ghostSite int
		for _, l := range strings.Split(strings.TrimSpace(string(d.events)), "\n")[1:] {
			f := strings.Split(l, ",")
			k, known := kinds[f[0]]
			switch {
			case !known:
				ghostDevice++
			case k == "sensor":
				sensor++
			default:
				other++
			}
			if len(f[1]) >= 6 && f[1] >= "330000" {
				ghostSite++
			}
		}
		if sensor == 0 || other == 0 || ghostDevice == 0 || ghostSite == 0 {
			t.Errorf("seed %d: sensor %d, other kinds %d, unknown devices %d, unknown sites %d", seed, sensor, other, ghostDevice, ghostSite)
		}
		if len(d.truth) < 10 {
			t.Errorf("seed %d: only %d sites in the answer", seed, len(d.truth))
		}
		if _, rows, _ := bytes.Cut(d.devices, []byte("\n")); bytes.ContainsAny(rows, "_%") {
			t.Errorf("seed %d: device ids hold LIKE wildcards", seed)
		}
	}
}
