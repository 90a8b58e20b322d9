#include "concern.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "startup.h"

int concern_load(struct bpf_object *obj, struct bpf_object *const *from, size_t nfrom, const char *name, char *err,
		 size_t errlen)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		struct bpf_map *theirs = NULL;
		for (size_t i = 0; i < nfrom && !theirs; i++)
			theirs = bpf_object__find_map_by_name(from[i], bpf_map__name(map));
		if (!theirs)
			continue;
		/* libbpf checks that the definitions agree (bpf/shared.h) */
		int rc = bpf_map__reuse_fd(map, bpf_map__fd(theirs));
		if (rc < 0) {
			snprintf(err, errlen, "cannot share the map %s with the %s programs: %s", bpf_map__name(map), name,
				 strerror(-rc));
			return -1;
		}
	}
	startup_verifier_prepare(obj, name);
	int rc = bpf_object__load(obj);
	startup_verifier_collect(obj, name);
	if (rc < 0) {
		snprintf(err, errlen, "cannot load the %s programs: %s (ETRACE_DEBUG=1 shows the verifier log)", name,
			 strerror(-rc));
		return -1;
	}
	return 0;
}
