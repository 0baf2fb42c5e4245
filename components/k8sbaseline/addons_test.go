package k8sbaseline

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/scalemate/infra/internal/mocktest"
)

// vendoredCharts is the repository's charts/ directory.
var vendoredCharts = func() string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "charts"))
	if err != nil {
		panic(err)
	}
	return dir
}()

func readLock(t *testing.T, dir string) *chartLock {
	t.Helper()
	lock, err := readChartLock(dir)
	require.NoError(t, err)
	return lock
}

// archiveFiles reads a chart archive's regular files by name.
func archiveFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		require.NoError(t, err)
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[h.Name] = b
	}
}

// chartMeta is what the tests read of a Chart.yaml.
type chartMeta struct {
	APIVersion   string `yaml:"apiVersion"`
	Name         string `yaml:"name"`
	Version      string `yaml:"version"`
	Dependencies []struct {
		Name    string `yaml:"name"`
		Version string `yaml:"version"`
	} `yaml:"dependencies"`
}

// Every release installs its add-on's pinned version from the vendored archive: the path exists,
// its digest is the lock's, and the archive is that chart at that version, laid out as `helm
// package` makes it, with its dependencies inside. No release names a chart repository.
func TestReleasesInstallVendoredArchives(t *testing.T) {
	rec := run(t, baseArgs())
	lock := readLock(t, vendoredCharts)
	for _, addon := range AddonNames() {
		t.Run(addon, func(t *testing.T) {
			chart, version := addons[addon].chart, DefaultChartVersions[addon]
			r := rec.Must(t, tRelease, "base-"+addon)
			_, hasRepo := r.Inputs["repositoryOpts"]
			assert.False(t, hasRepo, "no chart repository at deploy time")
			assert.Nil(t, r.Input("repo"))
			path, _ := r.Input("chart").(string)
			require.Equal(t, filepath.Join(vendoredCharts, chart+"-"+version+".tgz"), path)
			assert.Equal(t, version, r.Input("version"))

			locked, ok := lock.find(chart, version)
			require.True(t, ok, "%s %s is locked", chart, version)
			sum, err := fileSHA256(path)
			require.NoError(t, err, "the archive exists")
			assert.Equal(t, locked.SHA256, sum, "the archive is the one the lock pins")

			files := archiveFiles(t, path)
			for name := range files {
				assert.True(t, strings.HasPrefix(name, chart+"/"), "%s is under %s/", name, chart)
			}
			require.Contains(t, files, chart+"/values.yaml")
			var meta chartMeta
			require.NoError(t, yaml.Unmarshal(files[chart+"/Chart.yaml"], &meta))
			assert.Equal(t, "v2", meta.APIVersion)
			assert.Equal(t, chart, meta.Name)
			assert.Equal(t, version, meta.Version)
			// What the provider's dependency check (helm's action.CheckDependencies) wants: each
			// dependency vendored under charts/, whether or not its condition enables it.
			for _, dep := range meta.Dependencies {
				var sub chartMeta
				raw, ok := files[chart+"/charts/"+dep.Name+"/Chart.yaml"]
				if assert.True(t, ok, "dependency %s is vendored under %s/charts/", dep.Name, chart) {
					require.NoError(t, yaml.Unmarshal(raw, &sub))
					assert.Equal(t, dep.Version, sub.Version, dep.Name)
				}
			}
		})
	}
}

// The External Secrets chart renders its CRDs from templates its release process generates (they
// are not in its git tree): the vendored archive must carry them, or installCRDs installs none.
func TestExternalSecretsArchiveHasItsCRDTemplates(t *testing.T) {
	files := archiveFiles(t, filepath.Join(vendoredCharts, ChartArchive("external-secrets", DefaultChartVersions[ExternalSecrets])))
	for _, crd := range []string{"externalsecret", "secretstore", "clustersecretstore", "clusterexternalsecret", "pushsecret"} {
		body, ok := files["external-secrets/templates/crds/"+crd+".yaml"]
		if assert.True(t, ok, crd) {
			assert.True(t, strings.HasPrefix(string(body), "{{- if "), "%s is installed under installCRDs", crd)
			assert.Contains(t, string(body), "kind: CustomResourceDefinition")
		}
	}
	assert.NotContains(t, files, "external-secrets/templates/crds/README.md", "the chart's .helmignore applies")
}

// The lock pins exactly the default versions, one archive each, and charts/ holds nothing else.
func TestChartLockCoversExactlyTheDefaultVersions(t *testing.T) {
	lock := readLock(t, vendoredCharts)
	var locked, want []string
	for _, c := range lock.Charts {
		locked = append(locked, c.Chart+" "+c.Version)
		assert.Equal(t, ChartArchive(c.Chart, c.Version), c.Archive)
		assert.Regexp(t, `^[0-9a-f]{64}$`, c.SHA256, c.Archive)
	}
	for _, addon := range AddonNames() {
		want = append(want, addons[addon].chart+" "+DefaultChartVersions[addon])
	}
	slices.Sort(locked)
	assert.Equal(t, want, locked)
	assert.ElementsMatch(t, slices.Collect(maps.Keys(addons)), slices.Collect(maps.Keys(DefaultChartVersions)))

	archives, err := filepath.Glob(filepath.Join(vendoredCharts, "*.tgz"))
	require.NoError(t, err)
	var names []string
	for _, a := range archives {
		names = append(names, filepath.Base(a))
	}
	var lockedArchives []string
	for _, c := range lock.Charts {
		lockedArchives = append(lockedArchives, c.Archive)
	}
	assert.ElementsMatch(t, lockedArchives, names, "every archive in charts/ is locked, and only those")
}

// A relative ChartsRef (the program's, run by the CLI) is what the releases record.
func TestChartsRefNamesTheArchivesForTheProvider(t *testing.T) {
	args := baseArgs()
	args.ChartsRef = "./charts"
	rec := run(t, args)
	for _, addon := range AddonNames() {
		assert.Equal(t, "./charts/"+ChartArchive(addons[addon].chart, DefaultChartVersions[addon]),
			rec.Must(t, tRelease, "base-"+addon).Input("chart"))
	}
}

// chartsWith copies the vendored charts into a temporary directory, edits the copy of the lock,
// and returns the directory.
func chartsWith(t *testing.T, edit func(dir string, lock *chartLock)) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(vendoredCharts)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(vendoredCharts, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
		}
	}
	lock := readLock(t, dir)
	edit(dir, lock)
	raw, err := json.Marshal(lock)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ChartLock), raw, 0o644))
	return dir
}

// vendor adds an archive (any bytes) and its lock entry.
func vendor(t *testing.T, dir string, lock *chartLock, chart, version string) {
	t.Helper()
	body := []byte(chart + " " + version)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ChartArchive(chart, version)), body, 0o644))
	sum, err := fileSHA256(filepath.Join(dir, ChartArchive(chart, version)))
	require.NoError(t, err)
	lock.Charts = append(lock.Charts, lockedChart{Chart: chart, Version: version, Archive: ChartArchive(chart, version), SHA256: sum})
}

// A version override installs that version's vendored archive.
func TestChartVersionOverrideUsesItsVendoredArchive(t *testing.T) {
	args := baseArgs()
	args.ChartsDir = chartsWith(t, func(dir string, lock *chartLock) { vendor(t, dir, lock, "metrics-server", "3.12.2") })
	args.ChartVersions = map[string]string{MetricsServer: "3.12.2"}
	r := run(t, args).Must(t, tRelease, "base-"+MetricsServer)
	assert.Equal(t, filepath.Join(args.ChartsDir, "metrics-server-3.12.2.tgz"), r.Input("chart"))
	assert.Equal(t, "3.12.2", r.Input("version"))
}

// Nothing is registered unless every add-on's archive is there, locked and unchanged.
func TestUnvendoredOrChangedChartsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*testing.T, *Args)
		want string
	}{
		"no charts dir": {func(_ *testing.T, a *Args) { a.ChartsDir = "" }, "ChartsDir: must be set"},
		"relative dir":  {func(_ *testing.T, a *Args) { a.ChartsDir = "charts" }, `ChartsDir: "charts" is not an absolute path`},
		"bare ref": {func(_ *testing.T, a *Args) { a.ChartsRef = "charts" },
			`ChartsRef: "charts" must be absolute or start with ./ or ../`},
		"no lock": {func(t *testing.T, a *Args) { a.ChartsDir = t.TempDir() }, "ChartsDir: reading the chart lock: open "},
		"not vendored": {func(_ *testing.T, a *Args) { a.ChartVersions = map[string]string{MetricsServer: "3.12.2"} },
			"ChartsDir: metrics-server 3.12.2 is not in charts.lock.json: vendor the chart (scripts/vendor-chart.sh)"},
		"missing archive": {func(t *testing.T, a *Args) {
			a.ChartsDir = chartsWith(t, func(dir string, _ *chartLock) {
				require.NoError(t, os.Remove(filepath.Join(dir, "cluster-autoscaler-9.59.0.tgz")))
			})
		}, "ChartsDir: cluster-autoscaler-9.59.0.tgz is missing"},
		"changed archive": {func(t *testing.T, a *Args) {
			a.ChartsDir = chartsWith(t, func(dir string, _ *chartLock) {
				f, err := os.OpenFile(filepath.Join(dir, "external-secrets-2.6.0.tgz"), os.O_APPEND|os.O_WRONLY, 0)
				require.NoError(t, err)
				_, err = f.Write([]byte{0})
				require.NoError(t, err)
				require.NoError(t, f.Close())
			})
		}, "ChartsDir: external-secrets-2.6.0.tgz has sha256 "},
		"misnamed archive": {func(t *testing.T, a *Args) {
			a.ChartsDir = chartsWith(t, func(_ string, lock *chartLock) {
				for i := range lock.Charts {
					if lock.Charts[i].Chart == "metrics-server" {
						lock.Charts[i].Archive = "metrics-server.tgz"
					}
				}
			})
		}, `ChartsDir: charts.lock.json locks metrics-server 3.13.1 as "metrics-server.tgz", not "metrics-server-3.13.1.tgz"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(t, &args)
			rec, err := mocktest.Component(New, "base", args)
			rec.Refused(t, err, `invalid k8sbaseline args for "base"`, c.want)
		})
	}
	// Check, which runs before the program knows the directory, skips an empty one.
	args := baseArgs()
	args.ChartsDir = ""
	assert.NoError(t, args.Check("base"))
}
