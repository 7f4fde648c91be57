/* test_hostinfo.c - host identity parsers, fingerprint, collection and file hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "hash.h"
#include "hostinfo.h"
#include "xmalloc.h"

/* sample_host()'s fingerprint; reproduce with python3:
 * sha256(json.dumps(["pyscope.host/1", "Intel(R) Xeon(R) CPU", 2, 48,
 *   "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "x86_64", "build-7"],
 *   separators=(",", ":")).encode()).hexdigest()[:16] */
#define GOLDEN_FP "0ccacedffb8f7672"

static const char CPUINFO_X86[] = "processor\t: 0\n"
                                  "vendor_id\t: GenuineIntel\n"
                                  "cpu family\t: 6\n"
                                  "model\t\t: 85\n"
                                  "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz  \n"
                                  "stepping\t: 7\n"
                                  "\n"
                                  "processor\t: 1\n"
                                  "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\n";

static const char CPUINFO_ARM[] = "processor\t: 0\n"
                                  "BogoMIPS\t: 108.00\n"
                                  "Features\t: fp asimd evtstrm crc32 cpuid\n"
                                  "CPU implementer\t: 0x41\n"
                                  "CPU part\t: 0xd08\n"
                                  "\n"
                                  "Hardware\t: BCM2835\n"
                                  "Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n";

static const char CPUINFO_POWER[] = "processor\t: 0\n"
                                    "cpu\t\t: POWER9 (architected), altivec supported\n"
                                    "clock\t\t: 2200.000000MHz\n";

static const char MEMINFO[] = "MemTotal:       16318180 kB\n"
                              "MemFree:         1234567 kB\n"
                              "MemAvailable:    8000000 kB\n";

static const char OS_RELEASE[] = "# comment\n"
                                 "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                 "NAME=\"Debian GNU/Linux\"\n"
                                 "VERSION_ID=\"12\"\n"
                                 "VERSION=\"12 (bookworm)\"\n"
                                 "ID=debian\n";

static void test_parse_cpu_model(void **state)
{
    (void)state;
    char *s = hostinfo_parse_cpu_model(CPUINFO_X86);
    assert_string_equal(s, "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
    free(s);
    s = hostinfo_parse_cpu_model(CPUINFO_ARM);
    assert_string_equal(s, "BCM2835");
    free(s);
    s = hostinfo_parse_cpu_model(CPUINFO_POWER);
    assert_string_equal(s, "POWER9 (architected), altivec supported");
    free(s);
    /* lowercase "processor : 0" is not the ARM "Processor" field */
    assert_null(hostinfo_parse_cpu_model("processor\t: 0\nflags\t: fpu\n"));
    assert_null(hostinfo_parse_cpu_model("model name\t:   \n"));
    assert_null(hostinfo_parse_cpu_model(""));
    assert_null(hostinfo_parse_cpu_model(NULL));
    /* no trailing newline */
    s = hostinfo_parse_cpu_model("model name : X");
    assert_string_equal(s, "X");
    free(s);
}

static void test_parse_mem_total(void **state)
{
    (void)state;
    assert_int_equal(hostinfo_parse_mem_total(MEMINFO), INT64_C(16318180) * 1024);
    assert_int_equal(hostinfo_parse_mem_total("MemFree: 12 kB\n"), -1);
    assert_int_equal(hostinfo_parse_mem_total("MemTotal: lots kB\n"), -1);
    assert_int_equal(hostinfo_parse_mem_total("MemTotal: -5 kB\n"), -1);
    assert_int_equal(hostinfo_parse_mem_total("MemTotal: 5 MB\n"), -1);
    assert_int_equal(hostinfo_parse_mem_total("MemTotal: 99999999999999999999999 kB\n"), -1);
    assert_int_equal(hostinfo_parse_mem_total("MemTotal: 4096\n"), 4096);
    assert_int_equal(hostinfo_parse_mem_total(NULL), -1);
}

static void test_parse_os_release(void **state)
{
    (void)state;
    char *s = hostinfo_parse_os_release(OS_RELEASE);
    assert_string_equal(s, "Debian GNU/Linux 12 (bookworm)");
    free(s);
    s = hostinfo_parse_os_release("NAME=Alpine\nVERSION='3.19 edge'\n");
    assert_string_equal(s, "Alpine 3.19 edge");
    free(s);
    s = hostinfo_parse_os_release("NAME=\"Arch Linux\"\n");
    assert_string_equal(s, "Arch Linux");
    free(s);
    s = hostinfo_parse_os_release("PRETTY_NAME=\"Say \\\"hi\\\" \\\\o/\"\n");
    assert_string_equal(s, "Say \"hi\" \\o/");
    free(s);
    s = hostinfo_parse_os_release("PRETTY_NAME=\"\"\nNAME=Fallback\n");
    assert_string_equal(s, "Fallback");
    free(s);
    /* PRETTY_NAMEX is another key */
    assert_null(hostinfo_parse_os_release("PRETTY_NAMEX=\"no\"\nID=x\n"));
    assert_null(hostinfo_parse_os_release(""));
    assert_null(hostinfo_parse_os_release(NULL));
}

/* The boot id tells agents on one kernel (one machine's CPUs) apart from others. */
static void test_boot_id(void **state)
{
    (void)state;
    char *s = hostinfo_parse_boot_id("1f6e8c02-7b0b-4f7e-9a4c-5d2f3c1b0a99\n");
    assert_string_equal(s, "1f6e8c02-7b0b-4f7e-9a4c-5d2f3c1b0a99");
    free(s);
    assert_null(hostinfo_parse_boot_id(""));
    assert_null(hostinfo_parse_boot_id(NULL));
    assert_null(hostinfo_parse_boot_id("not a boot id\n"));
    assert_null(hostinfo_parse_boot_id("1F6E8C02\n")); /* the kernel writes lowercase */
    /* this machine's, read twice: the same */
    char *a = hostinfo_boot_id(NULL), *b = hostinfo_boot_id(NULL);
    if (a != NULL) {
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), 36);
    }
    free(a);
    free(b);
    assert_null(hostinfo_boot_id("/nonexistent-root"));
}

static void test_parse_governor_and_loadavg(void **state)
{
    (void)state;
    char *s = hostinfo_parse_governor("performance\n");
    assert_string_equal(s, "performance");
    free(s);
    assert_null(hostinfo_parse_governor(" \n"));
    assert_null(hostinfo_parse_governor(NULL));

    double l[3];
    assert_int_equal(hostinfo_parse_loadavg("0.12 0.30 0.41 1/123 4567\n", l), 0);
    assert_float_equal(l[0], 0.12, 1e-9);
    assert_float_equal(l[1], 0.30, 1e-9);
    assert_float_equal(l[2], 0.41, 1e-9);
    assert_int_equal(hostinfo_parse_loadavg("0.12 0.30\n", l), -PYSCOPE_EPARSE);
    assert_int_equal(hostinfo_parse_loadavg("0.12 x 0.41\n", l), -PYSCOPE_EPARSE);
    assert_int_equal(hostinfo_parse_loadavg("0.12 nan 0.41\n", l), -PYSCOPE_EPARSE);
    assert_int_equal(hostinfo_parse_loadavg("0.12 -1 0.41\n", l), -PYSCOPE_EPARSE);
    assert_int_equal(hostinfo_parse_loadavg("1.0.0 1 1\n", l), -PYSCOPE_EPARSE);
    assert_int_equal(hostinfo_parse_loadavg(NULL, l), -PYSCOPE_EPARSE);
}

static json_t *sample_host(void)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:[fff]}", "fingerprint",
                     "0000000000000000", "hostname", "build-7", "cpu_model", "Intel(R) Xeon(R) CPU",
                     "cores", 2, "mem_bytes", (json_int_t)INT64_C(25769803776), "os",
                     "Debian GNU/Linux 12 (bookworm)", "kernel", "6.1.0-18-amd64", "arch", "x86_64",
                     "governor", "performance", "loadavg", 0.12, 0.30, 0.41);
}

static void assert_same_fp(json_t *a, json_t *b, int want_same)
{
    char *fa = hostinfo_fingerprint(a);
    char *fb = hostinfo_fingerprint(b);
    if ((strcmp(fa, fb) == 0) != want_same)
        print_error("fingerprints %s and %s, want %s\n", fa, fb, want_same ? "same" : "different");
    assert_int_equal(strcmp(fa, fb) == 0, want_same);
    free(fa);
    free(fb);
}

static void test_fingerprint(void **state)
{
    (void)state;
    json_t *a = sample_host();
    char *fp = hostinfo_fingerprint(a);
    assert_int_equal(strlen(fp), HOSTINFO_FINGERPRINT_LEN);
    assert_int_equal(strspn(fp, "0123456789abcdef"), HOSTINFO_FINGERPRINT_LEN);
    /* golden value: changing the recipe changes every host's identity */
    assert_string_equal(fp, GOLDEN_FP);
    free(fp);

    /* drift fields and the stored fingerprint do not count */
    json_t *b = sample_host();
    json_object_set_new(b, "governor", json_string("powersave"));
    json_object_set_new(b, "loadavg", json_pack("[fff]", 3.0, 2.0, 1.0));
    json_object_set_new(b, "fingerprint", json_string("ffffffffffffffff"));
    assert_same_fp(a, b, 1);
    /* memory within the same 0.5 GiB step does not count; a bigger change does */
    json_object_set_new(b, "mem_bytes", json_integer(INT64_C(25769803776) - 30 * 1024 * 1024));
    assert_same_fp(a, b, 1);
    json_object_set_new(b, "mem_bytes", json_integer(INT64_C(25769803776) + 200 * 1024 * 1024));
    assert_same_fp(a, b, 1);
    json_object_set_new(b, "mem_bytes", json_integer(INT64_C(25769803776) + 400 * 1024 * 1024));
    assert_same_fp(a, b, 0);
    json_decref(b);

    /* each identity field counts */
    static const char *const fields[] = {"hostname", "cpu_model", "os", "kernel", "arch"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        b = sample_host();
        json_object_set_new(b, fields[i], json_string("other"));
        assert_same_fp(a, b, 0);
        json_object_del(b, fields[i]);
        assert_same_fp(a, b, 0);
        json_decref(b);
    }
    b = sample_host();
    json_object_set_new(b, "cores", json_integer(4));
    assert_same_fp(a, b, 0);
    json_decref(b);

    /* key order does not matter; an empty or odd object still gets a fingerprint */
    b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:s}", "arch", "x86_64", "kernel",
                  "6.1.0-18-amd64", "os", "Debian GNU/Linux 12 (bookworm)", "hostname", "build-7",
                  "cpu_model", "Intel(R) Xeon(R) CPU", "mem_bytes",
                  (json_int_t)INT64_C(25769803776), "cores", 2, "governor", "x");
    assert_same_fp(a, b, 1);
    json_decref(b);
    b = json_pack("{s:i, s:s}", "cores", -3, "mem_bytes", "lots");
    fp = hostinfo_fingerprint(b);
    assert_int_equal(strlen(fp), HOSTINFO_FINGERPRINT_LEN);
    free(fp);
    json_decref(b);
    json_t *empty = json_object();
    fp = hostinfo_fingerprint(empty);
    assert_int_equal(strlen(fp), HOSTINFO_FINGERPRINT_LEN);
    free(fp);
    json_decref(empty);
    json_decref(a);
}

static void write_at(const char *root, const char *rel, const char *text)
{
    char *path = xasprintf("%s%s", root, rel);
    char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    char *cmd = xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(cmd);
    free(dir);
    free(path);
}

static void test_collect_at_fixture_root(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/pyscope_hostinfo_XXXXXX";
    char *root = mkdtemp(tmpl);
    assert_non_null(root);
    write_at(root, "/proc/cpuinfo", CPUINFO_X86);
    write_at(root, "/proc/meminfo", MEMINFO);
    write_at(root, "/proc/loadavg", "1.50 0.75 0.25 2/300 999\n");
    write_at(root, "/usr/lib/os-release", OS_RELEASE); /* /etc/os-release absent */

    json_t *h = hostinfo_collect_at(root);
    assert_string_equal(json_string_value(json_object_get(h, "cpu_model")),
                        "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
    assert_int_equal(json_integer_value(json_object_get(h, "mem_bytes")), INT64_C(16318180) * 1024);
    assert_string_equal(json_string_value(json_object_get(h, "os")),
                        "Debian GNU/Linux 12 (bookworm)");
    assert_true(json_is_null(json_object_get(h, "governor")));
    json_t *load = json_object_get(h, "loadavg");
    assert_int_equal(json_array_size(load), 3);
    assert_float_equal(json_real_value(json_array_get(load, 0)), 1.5, 1e-9);
    assert_true(json_integer_value(json_object_get(h, "cores")) >= 1);
    assert_true(json_is_string(json_object_get(h, "kernel")));
    assert_true(json_is_string(json_object_get(h, "arch")));
    assert_true(json_is_string(json_object_get(h, "hostname")));
    char *fp = hostinfo_fingerprint(h);
    assert_string_equal(json_string_value(json_object_get(h, "fingerprint")), fp);
    free(fp);
    json_decref(h);

    /* governor present, broken loadavg, nothing else */
    write_at(root, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "schedutil\n");
    write_at(root, "/proc/loadavg", "garbage\n");
    write_at(root, "/proc/cpuinfo", "");
    write_at(root, "/proc/meminfo", "");
    h = hostinfo_collect_at(root);
    assert_string_equal(json_string_value(json_object_get(h, "governor")), "schedutil");
    assert_true(json_is_null(json_object_get(h, "loadavg")));
    assert_true(json_is_null(json_object_get(h, "cpu_model")));
    assert_true(json_is_null(json_object_get(h, "mem_bytes")));
    json_decref(h);

    char *cmd = xasprintf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void test_collect_this_host(void **state)
{
    (void)state;
    json_t *h = hostinfo_collect();
    static const char *const keys[] = {"fingerprint", "hostname", "cpu_model", "cores",
                                       "mem_bytes",   "os",       "kernel",    "arch",
                                       "governor",    "loadavg"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_non_null(json_object_get(h, keys[i]));
    assert_int_equal(strlen(json_string_value(json_object_get(h, "fingerprint"))),
                     HOSTINFO_FINGERPRINT_LEN);
    assert_true(json_integer_value(json_object_get(h, "cores")) >= 1);
    assert_true(json_integer_value(json_object_get(h, "mem_bytes")) > 0);
    assert_int_equal(json_array_size(json_object_get(h, "loadavg")), 3);
    /* stable between two calls even though the load moves */
    json_t *h2 = hostinfo_collect();
    assert_string_equal(json_string_value(json_object_get(h, "fingerprint")),
                        json_string_value(json_object_get(h2, "fingerprint")));
    json_decref(h2);
    json_decref(h);
}

static void test_hash(void **state)
{
    (void)state;
    char hex[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hash_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    char tmpl[] = "/tmp/pyscope_hash_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    assert_int_equal(hash_file_sha256(tmpl, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    /* several chunks, streamed, equal the one-shot hash */
    size_t big = 300000;
    unsigned char *buf = xmalloc(big);
    for (size_t i = 0; i < big; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(write(fd, buf, big), (ssize_t)big);
    close(fd);
    char want[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(buf, big, want);
    assert_int_equal(hash_file_sha256(tmpl, hex), 0);
    assert_string_equal(hex, want);
    free(buf);
    unlink(tmpl);

    assert_int_equal(hash_file_sha256(tmpl, hex), -ENOENT);
    assert_string_equal(hex, "");
    assert_int_equal(hash_file_sha256("/tmp", hex), -EISDIR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cpu_model),   cmocka_unit_test(test_parse_mem_total),
        cmocka_unit_test(test_parse_os_release),  cmocka_unit_test(test_parse_governor_and_loadavg),
        cmocka_unit_test(test_fingerprint),       cmocka_unit_test(test_collect_at_fixture_root),
        cmocka_unit_test(test_collect_this_host), cmocka_unit_test(test_hash),
        cmocka_unit_test(test_boot_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
