/* TEMPORARY: stand-ins for lib/hostinfo.h and lib/pathnorm.h until they land. */
#ifndef PYSCOPE_STUBS_TMP_H
#define PYSCOPE_STUBS_TMP_H
#include <jansson.h>
json_t *hostinfo_collect(void);
int hash_file_sha256(const char *path, char out_hex[65]);
char *pathnorm_find_root(const char *start_dir);
int pathnorm_key(const char *abs_path, const char *root, char **out);
#endif
