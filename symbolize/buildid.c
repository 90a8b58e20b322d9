/* The GNU build-id of an ELF file: see buildid.h. */
#include "buildid.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int note_build_id(Elf_Data *data, char *out, size_t outlen)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
			continue;
		if (nh.n_descsz == 0 || nh.n_descsz * 2 + 1 > outlen)
			return -1;
		const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
		for (size_t i = 0; i < nh.n_descsz; i++)
			snprintf(out + 2 * i, 3, "%02x", d[i]);
		return 0;
	}
	return -1;
}

int elf_build_id(const char *path, char *out, size_t outlen)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = -1;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t nph = 0;
	if (e && elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &nph) == 0) {
		/* the loaded notes: what the kernel and the loader saw */
		for (size_t i = 0; i < nph && rc < 0; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			Elf_Data *data = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz,
							      ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			if (data)
				rc = note_build_id(data, out, outlen);
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}
