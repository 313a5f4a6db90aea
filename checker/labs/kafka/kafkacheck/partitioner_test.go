package kafkacheck_test

import (
	"hash/fnv"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The lesson kafka/01-the-log says that sarama's default partitioner
// hashes keys with FNV-1a, not with the Java client's murmur2, and that
// sarama.NewMurmur2Partitioner is the Java-compatible choice. These tests
// pin both facts to the sarama version go.mod requires, with no broker: if
// an upgrade changes the default, the lesson is wrong and this fails.

// partitionOf asks a partitioner made by newP for the partition of key.
func partitionOf(t *testing.T, newP sarama.PartitionerConstructor, key string, n int32) int32 {
	t.Helper()
	p, err := newP("events").Partition(&sarama.ProducerMessage{Topic: "events", Key: sarama.StringEncoder(key)}, n)
	require.NoError(t, err)
	return p
}

// fnv1a is the partition the lesson's description of sarama's default
// predicts: the 32-bit FNV-1a of the key, as a signed int32, modulo the
// partition count, negated when negative (sarama's own absolute value).
func fnv1a(key string, n int32) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	p := int32(h.Sum32()) % n
	if p < 0 {
		p = -p
	}
	return p
}

func TestSaramaDefaultPartitionerIsFNV1a(t *testing.T) {
	def := sarama.NewConfig().Producer.Partitioner
	for _, n := range []int32{3, 6, 7} {
		for i := range 200 {
			key := "sensor-" + string(rune('a'+i%26)) + string(rune('0'+i/26))
			require.Equal(t, fnv1a(key, n), partitionOf(t, def, key, n), "key %q over %d partitions", key, n)
		}
	}
	// Worked out independently of Go's hash/fnv (FNV-1a by its definition:
	// offset basis 2166136261, prime 16777619), so the test does not only
	// compare sarama with the helper above. "abc" hashes to 0x1a47e90b =
	// 440920331, and 440920331 % 6 = 5; "21" to 0x8cf297ec, which as an
	// int32 is -1930258452, and -1930258452 % 6 = 0.
	for key, want := range map[string]int32{"sensor-01": 3, "sensor-02": 0, "abc": 5, "21": 0} {
		assert.Equal(t, want, partitionOf(t, def, key, 6), "key %q over 6 partitions", key)
	}
}

// Kafka's own test vectors for its murmur2 (UtilsTest.testMurmur2 in the
// Java client): the Java client's partition of a key is
// (murmur2(key) & 0x7fffffff) % partitions.
var javaMurmur2 = map[string]int32{
	"21":                         -973932308,
	"foobar":                     -790332482,
	"a-little-bit-long-string":   -985981536,
	"a-little-bit-longer-string": -1486304829,
	"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
	"abc": 479470107,
}

func TestSaramaMurmur2PartitionerMatchesTheJavaClient(t *testing.T) {
	for key, h := range javaMurmur2 {
		for _, n := range []int32{6, 12} {
			assert.Equal(t, (h&0x7fffffff)%n, partitionOf(t, sarama.NewMurmur2Partitioner, key, n), "key %q over %d partitions", key, n)
		}
	}
}

// The consequence the lesson warns about: with the default partitioner
// some keys land on another partition than a Java producer puts them on.
func TestSaramaDefaultAndJavaDisagreeOnSomeKeys(t *testing.T) {
	const n = 6
	differ := 0
	for key, h := range javaMurmur2 {
		if partitionOf(t, sarama.NewHashPartitioner, key, n) != (h&0x7fffffff)%n {
			differ++
		}
	}
	assert.Positive(t, differ, "every key landed where the Java client puts it; the lesson says they differ")
}
