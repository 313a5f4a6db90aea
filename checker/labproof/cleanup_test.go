package labproof

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/registry"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

// delabContainers lists the ids of every container delab labelled.
// delabContainers lists the containers this test process started (by
// delab's pid label): another delab or go test on the same machine may
// start and remove its own at any time.
func delabContainers(t *testing.T) map[string]bool {
	t.Helper()
	return containersLabelled(t, "label="+services.LabelPID+"="+strconv.Itoa(os.Getpid()))
}

// allDelabContainers lists every container any delab process started, for
// a test that runs delab as a process of its own.
func allDelabContainers(t *testing.T) map[string]bool {
	t.Helper()
	return containersLabelled(t, "label="+services.LabelOwner+"=delab")
}

func containersLabelled(t *testing.T, filter string) map[string]bool {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--no-trunc", "--filter", "label="+services.LabelOwner+"=delab", "--filter", filter).Output()
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, id := range strings.Fields(string(out)) {
		ids[id] = true
	}
	return ids
}

// signalling wraps a provider and says when services are ready.
type signalling struct {
	services.Provider
	ready chan struct{}
}

func (s *signalling) Acquire(ctx context.Context, need []catalog.Service) (services.Session, error) {
	sess, err := s.Provider.Acquire(ctx, need)
	close(s.ready)
	return sess, err
}

func gradeKafkaFixture(t *testing.T, ctx context.Context, fixture string, p services.Provider) *report.Lab {
	c := loadCatalog(t)
	lab := c.Lab("kafka/01-first-produce-consume")
	src := engine.Source{Dir: filepath.Join("testdata", fixture), ModuleDir: repoRoot, Display: lab.Dir}
	return (&engine.Engine{Services: p}).Grade(ctx, lab, registry.ByID(lab.ID), src)
}

func TestServicesAreRemovedAfterALearnerPanic(t *testing.T) {
	serviceProvider(t) // skips without Docker, fails in CI
	before := delabContainers(t)
	res := gradeKafkaFixture(t, context.Background(), "kafka-panic", &services.Docker{})
	require.NotEmpty(t, res.Checks)
	assert.Equal(t, report.Failed, res.Checks[0].Status)
	assert.Contains(t, res.Checks[0].Message, "your code panicked: assignment to entry in nil map")
	assert.Equal(t, before, delabContainers(t), "the lab's Kafka container is removed")
}

func TestServicesAreRemovedAfterCtrlC(t *testing.T) {
	serviceProvider(t)
	before := delabContainers(t)
	ctx, cancel := context.WithCancel(context.Background())
	p := &signalling{Provider: &services.Docker{}, ready: make(chan struct{})}
	go func() {
		<-p.ready
		time.Sleep(2 * time.Second) // the learner's Produce is now hanging
		cancel()
	}()
	start := time.Now()
	res := gradeKafkaFixture(t, ctx, "kafka-hang", p)
	assert.Equal(t, "interrupted", res.Message)
	assert.Equal(t, report.Skipped, res.Checks[0].Status)
	assert.Less(t, time.Since(start), 90*time.Second)
	assert.Equal(t, before, delabContainers(t), "Ctrl-C removes the lab's services")
}

// TestSweepAfterKill9 kills `delab check` with SIGKILL while its services
// run, then shows that the next delab run removes what it left.
func TestSweepAfterKill9(t *testing.T) {
	serviceProvider(t)
	bin := filepath.Join(t.TempDir(), "delab")
	build := exec.Command("go", "build", "-o", bin, "./cmd/delab")
	build.Dir = repoRoot
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	repo := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(repo, f), data, 0o644))
	}
	labDir := filepath.Join(repo, "labs", "kafka", "01-first-produce-consume")
	require.NoError(t, os.MkdirAll(labDir, 0o755))
	data, err := os.ReadFile(filepath.Join("testdata", "kafka-hang", "produceconsume.go"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(labDir, "produceconsume.go"), data, 0o644))

	before := allDelabContainers(t)
	cmd := exec.Command(bin, "check", "kafka/01", "--repo", repo)
	cmd.Env = append(os.Environ(), "DELAB_HOME="+t.TempDir())
	require.NoError(t, cmd.Start())
	var leftover []string
	require.Eventually(t, func() bool {
		leftover = nil
		for id := range allDelabContainers(t) {
			if !before[id] {
				leftover = append(leftover, id)
			}
		}
		return len(leftover) > 0
	}, 90*time.Second, 250*time.Millisecond, "delab check started its Kafka")
	time.Sleep(3 * time.Second)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	for _, id := range leftover {
		assert.True(t, allDelabContainers(t)[id], "after kill -9 the container is still there, as expected")
	}

	removed, err := services.Sweep(context.Background(), false)
	require.NoError(t, err)
	assert.NotEmpty(t, removed)
	now := allDelabContainers(t)
	for _, id := range leftover {
		assert.False(t, now[id], "the next run's sweep removed %s", id[:12])
	}
}

// killing is a provider whose services die as soon as they are handed out.
type killing struct{ services.Provider }

func (k killing) Acquire(ctx context.Context, need []catalog.Service) (services.Session, error) {
	sess, err := k.Provider.Acquire(ctx, need)
	if err == nil {
		st := sess.(*services.Stack)
		_ = exec.Command("docker", "kill", st.Kafka.GetContainerID()).Run()
	}
	return sess, err
}

func TestADeadServiceIsReportedAsAServiceFailure(t *testing.T) {
	serviceProvider(t)
	before := delabContainers(t)
	c := loadCatalog(t)
	lab := c.Lab("kafka/01-first-produce-consume")
	src := engine.Source{Dir: filepath.Join(repoRoot, "checker", "labs", "kafka", "01-first-produce-consume", "solution"), ModuleDir: repoRoot, Display: lab.Dir}
	res := (&engine.Engine{Services: killing{&services.Docker{}}}).Grade(context.Background(), lab, registry.ByID(lab.ID), src)
	require.NotEmpty(t, res.Checks)
	first := res.Checks[0]
	assert.Equal(t, report.Error, first.Status, "never charged to the learner")
	assert.Contains(t, first.Message, "service failure (not your fault): the kafka service stopped while in use")
	assert.Contains(t, first.Message, "last log lines", "the service's last log lines are shown")
	assert.Empty(t, first.Hint)
	assert.Equal(t, report.Error, res.Status)
	assert.Contains(t, res.Message, "a service stopped during grading")
	assert.Equal(t, before, delabContainers(t))
}
