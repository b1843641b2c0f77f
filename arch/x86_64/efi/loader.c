/* SPDX-License-Identifier: MIT */
/*
 * Keel's UEFI loader (EFI/BOOT/BOOTX64.EFI): reads keel/kernel.elf, keel/cmdline and
 * keel/initrd from the volume it was started from, checks and loads the kernel ELF,
 * builds the kernel's page tables and struct boot_info, exits boot services and jumps
 * to the kernel in the higher half. docs/boot-x86_64.md describes the handoff.
 */
#include <efi.h>
#include <efilib.h>

#include <arch/arch_mmu.h>
#include <arch/x86_pt.h>
#include <kernel/boot_info.h>

#include "loader.h"

#define COM1            0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define LOADER_FAILURE  4 /* status reported to QEMU when the boot input is rejected */
#define KERNEL_FILE_MAX (256ULL << 20)
#define PAGE            4096ULL
#define FIRMWARE_STR    64
#define ABOVE_4G_RANGES 256

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

/* ---- output: ConOut and COM1 ---------------------------------------------------- */

static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void cpuid(uint32_t leaf, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static void com1_putc(char c) {
    for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++) {
        __asm__ volatile("pause");
    }
    outb(COM1, (uint8_t)c);
}

/* COM1 only: usable after ExitBootServices. */
static void com1_puts(const char *s) {
    for (; *s != '\0'; s++) {
        if (*s == '\n') {
            com1_putc('\r');
        }
        com1_putc(*s);
    }
}

static void con_puts(const char *s) {
    CHAR16 buf[65];
    unsigned n = 0;
    for (; *s != '\0'; s++) {
        if (*s == '\n') {
            buf[n++] = L'\r';
        }
        buf[n++] = (CHAR16)(unsigned char)*s;
        if (n >= 63) {
            buf[n] = 0;
            ST->ConOut->OutputString(ST->ConOut, buf);
            n = 0;
        }
    }
    buf[n] = 0;
    ST->ConOut->OutputString(ST->ConOut, buf);
}

/* Messages go to the firmware console and, unless it is already there, COM1. */
static bool conout_is_serial;

static void say(const char *s) {
    con_puts(s);
    if (!conout_is_serial) {
        com1_puts(s);
    }
}

static void hex(char *out, uint64_t v) {
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 16; i++) {
        out[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    }
    out[18] = '\0';
}

static void say_hex(uint64_t v) {
    char buf[19];
    hex(buf, v);
    say(buf);
}

/* QEMU's isa-debug-exit reads as 0, an unclaimed port as 0xff; only under a hypervisor. */
static bool have_debug_exit(void) {
    uint32_t r[4];
    cpuid(1, r);
    return (r[2] & (1U << 31)) != 0 && inb(DEBUG_EXIT_PORT) == 0;
}

static __attribute__((noreturn)) void power_off_failed(void) {
    if (have_debug_exit()) {
        outb(DEBUG_EXIT_PORT, 0x10 + LOADER_FAILURE);
    }
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/*
 * Report a rejected boot and give up: under QEMU power off with LOADER_FAILURE so a
 * test sees it at once; on a real machine leave the message up, then return the error
 * so the firmware tries its next boot option.
 */
static EFI_STATUS fail(EFI_STATUS st, const char *what, const char *detail) {
    say("keel-efi: error: ");
    say(what);
    if (detail != NULL) {
        say(": ");
        say(detail);
    }
    say("\n");
    if (have_debug_exit()) {
        power_off_failed();
    }
    BS->Stall(5 * 1000 * 1000);
    return st;
}

/* ---- files ------------------------------------------------------------------------- */

struct blob {
    uint8_t *data; /* page allocation (EfiLoaderData) */
    uint64_t size;
};

/* Read `path` into fresh pages. EFI_NOT_FOUND is returned quietly when the file is absent. */
static EFI_STATUS read_file(EFI_FILE_HANDLE root, CHAR16 *path, const char *name, uint64_t max,
                            struct blob *out) {
    EFI_FILE_HANDLE f;
    out->data = NULL;
    out->size = 0;
    EFI_STATUS st = root->Open(root, &f, path, EFI_FILE_MODE_READ, 0);
    if (st == EFI_NOT_FOUND) {
        return st;
    }
    if (EFI_ERROR(st)) {
        return fail(st, "cannot open", name);
    }
    EFI_FILE_INFO *info = LibFileInfo(f);
    if (info == NULL) {
        f->Close(f);
        return fail(EFI_DEVICE_ERROR, "cannot stat", name);
    }
    uint64_t size = info->FileSize;
    FreePool(info);
    if (size > max) {
        f->Close(f);
        return fail(EFI_BAD_BUFFER_SIZE, "file too large", name);
    }
    EFI_PHYSICAL_ADDRESS pa = 0;
    UINTN pages = (UINTN)((size + PAGE - 1) / PAGE);
    st = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, pages ? pages : 1, &pa);
    if (EFI_ERROR(st)) {
        f->Close(f);
        return fail(st, "out of memory reading", name);
    }
    uint64_t done = 0;
    while (done < size) {
        UINTN chunk = (UINTN)(size - done);
        st = f->Read(f, &chunk, (uint8_t *)(uintptr_t)pa + done);
        if (EFI_ERROR(st) || chunk == 0) {
            f->Close(f);
            return fail(EFI_ERROR(st) ? st : EFI_END_OF_FILE, "read error", name);
        }
        done += chunk;
    }
    f->Close(f);
    out->data = (uint8_t *)(uintptr_t)pa;
    out->size = size;
    return EFI_SUCCESS;
}

/* keel/cmdline: optional; trailing whitespace dropped; too long is an error, not a cut. */
static EFI_STATUS load_cmdline(EFI_FILE_HANDLE root, char cmdline[BOOT_CMDLINE_MAX]) {
    struct blob b;
    cmdline[0] = '\0';
    EFI_STATUS st = read_file(root, L"keel\\cmdline", "keel/cmdline", 1 << 20, &b);
    if (st == EFI_NOT_FOUND) {
        return EFI_SUCCESS;
    }
    if (EFI_ERROR(st)) {
        return st;
    }
    uint64_t n = b.size;
    while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' || b.data[n - 1] == ' ')) {
        n--;
    }
    if (n >= BOOT_CMDLINE_MAX) {
        return fail(EFI_BAD_BUFFER_SIZE, "keel/cmdline is too long",
                    "the limit is 1023 bytes (BOOT_CMDLINE_MAX - 1)");
    }
    for (uint64_t i = 0; i < n; i++) {
        if (b.data[i] == '\0') {
            return fail(EFI_INVALID_PARAMETER, "keel/cmdline contains a NUL byte", NULL);
        }
        cmdline[i] = (char)b.data[i];
    }
    cmdline[n] = '\0';
    UINTN pages = (UINTN)((b.size + PAGE - 1) / PAGE);
    BS->FreePages((EFI_PHYSICAL_ADDRESS)(uintptr_t)b.data, pages ? pages : 1);
    return EFI_SUCCESS;
}

/* ---- firmware facts ------------------------------------------------------------- */

static uint64_t find_rsdp(void) {
    uint64_t v1 = 0;
    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *ct = &ST->ConfigurationTable[i];
        if (CompareGuid(&ct->VendorGuid, &acpi20_guid) == 0) {
            return (uint64_t)(uintptr_t)ct->VendorTable;
        }
        if (CompareGuid(&ct->VendorGuid, &acpi10_guid) == 0) {
            v1 = (uint64_t)(uintptr_t)ct->VendorTable;
        }
    }
    return v1;
}

static void find_framebuffer(struct boot_framebuffer *fb) {
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    fb->base = 0;
    if (EFI_ERROR(LibLocateProtocol(&gEfiGraphicsOutputProtocolGuid, (void **)&gop)) ||
        gop == NULL || gop->Mode == NULL || gop->Mode->Info == NULL) {
        return;
    }
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
    if (info->PixelFormat == PixelBltOnly) {
        return;
    }
    fb->base = gop->Mode->FrameBufferBase;
    fb->width = info->HorizontalResolution;
    fb->height = info->VerticalResolution;
    fb->bpp = 32;
    fb->pitch = info->PixelsPerScanLine * 4;
}

/* "UEFI (<vendor>)" as ASCII. */
static void firmware_name(char out[FIRMWARE_STR]) {
    const char *prefix = "UEFI (";
    unsigned n = 0;
    for (; prefix[n] != '\0'; n++) {
        out[n] = prefix[n];
    }
    const CHAR16 *v = ST->FirmwareVendor;
    for (unsigned i = 0; v != NULL && v[i] != 0 && n < FIRMWARE_STR - 2; i++) {
        out[n++] = (v[i] >= 0x20 && v[i] < 0x7f) ? (char)v[i] : '?';
    }
    out[n++] = ')';
    out[n] = '\0';
}

/* ---- memory map ------------------------------------------------------------------ */

struct memmap {
    EFI_MEMORY_DESCRIPTOR *buf;
    UINTN size, cap, key, dsize;
    UINT32 dver;
};

#define DESC(m, i) ((EFI_MEMORY_DESCRIPTOR *)((uint8_t *)(m)->buf + (i) * (m)->dsize))

static EFI_STATUS memmap_get(struct memmap *m) {
    m->size = m->cap;
    return BS->GetMemoryMap(&m->size, m->buf, &m->key, &m->dsize, &m->dver);
}

/* A buffer with room for the map to grow by a few entries before ExitBootServices. */
static EFI_STATUS memmap_alloc(struct memmap *m) {
    m->cap = 0;
    m->buf = NULL;
    EFI_STATUS st = memmap_get(m);
    if (st != EFI_BUFFER_TOO_SMALL) {
        return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
    }
    m->cap = m->size + 32 * m->dsize;
    return BS->AllocatePool(EfiLoaderData, m->cap, (void **)&m->buf);
}

/* RAM and firmware data: mapped in the direct map. */
static bool efi_is_ram(UINT32 type) {
    switch (type) {
    case EfiLoaderCode:
    case EfiLoaderData:
    case EfiBootServicesCode:
    case EfiBootServicesData:
    case EfiRuntimeServicesCode:
    case EfiRuntimeServicesData:
    case EfiConventionalMemory:
    case EfiACPIReclaimMemory:
    case EfiACPIMemoryNVS:
    case 14: /* EfiPersistentMemory */
        return true;
    default:
        return false;
    }
}

static uint32_t efi_to_mem_type(UINT32 type) {
    switch (type) {
    case EfiLoaderCode:
    case EfiLoaderData:
    case EfiBootServicesCode:
    case EfiBootServicesData:
    case EfiConventionalMemory:
        return MEM_USABLE;
    case EfiRuntimeServicesCode:
    case EfiRuntimeServicesData:
        return MEM_FIRMWARE;
    case EfiACPIReclaimMemory:
        return MEM_ACPI_RECLAIM;
    case EfiACPIMemoryNVS:
        return MEM_ACPI_NVS;
    case EfiMemoryMappedIO:
    case EfiMemoryMappedIOPortSpace:
        return MEM_MMIO;
    case EfiUnusableMemory:
        return MEM_BAD;
    default:
        return MEM_RESERVED;
    }
}

/* After ExitBootServices: no UEFI calls, no printing through the firmware. */
static void add_region(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type,
                       uint32_t cap) {
    if (size == 0) {
        return;
    }
    if (bi->mem_count > 0) {
        struct mem_region *prev = &bi->mem[bi->mem_count - 1];
        if (prev->type == type && prev->base + prev->size == base) {
            prev->size += size;
            return;
        }
    }
    if (bi->mem_count >= cap) {
        bi->mem_dropped++;
        return;
    }
    bi->mem[bi->mem_count++] = (struct mem_region){base, size, type, 0};
}

/* ---- page tables ----------------------------------------------------------------- */

struct range {
    uint64_t start, end;
};

struct layout {
    bool gbpages;
    uint64_t nx;
    unsigned nranges; /* RAM above 4 GiB, 2 MiB rounded, sorted, merged */
    struct range ranges[ABOVE_4G_RANGES];
    uint8_t low_ram[2048 / 8]; /* 2 MiB pages below 4 GiB that hold RAM */
};

static struct layout lay;

static void scan_memmap(const struct memmap *m) {
    lay.nranges = 0;
    for (UINTN i = 0; i < m->size / m->dsize; i++) {
        const EFI_MEMORY_DESCRIPTOR *d = DESC(m, i);
        if (!efi_is_ram(d->Type) || d->NumberOfPages == 0) {
            continue;
        }
        uint64_t start = d->PhysicalStart & ~(X86_PAGE_2M - 1);
        uint64_t end = d->PhysicalStart + d->NumberOfPages * PAGE;
        end = (end + X86_PAGE_2M - 1) & ~(X86_PAGE_2M - 1);
        for (uint64_t a = start; a < end && a < (1ULL << 32); a += X86_PAGE_2M) {
            lay.low_ram[(a >> 21) / 8] |= (uint8_t)(1U << ((a >> 21) % 8));
        }
        if (end <= (1ULL << 32)) {
            continue;
        }
        if (start < (1ULL << 32)) {
            start = 1ULL << 32;
        }
        /* Insert sorted, then merge with neighbours it touches. */
        unsigned j = lay.nranges;
        if (j == ABOVE_4G_RANGES) {
            continue; /* cannot happen with merging on real maps; the RAM stays unmapped */
        }
        while (j > 0 && lay.ranges[j - 1].start > start) {
            lay.ranges[j] = lay.ranges[j - 1];
            j--;
        }
        lay.ranges[j] = (struct range){start, end};
        lay.nranges++;
        unsigned w = 0;
        for (unsigned k = 1; k < lay.nranges; k++) {
            if (lay.ranges[k].start <= lay.ranges[w].end) {
                if (lay.ranges[k].end > lay.ranges[w].end) {
                    lay.ranges[w].end = lay.ranges[k].end;
                }
            } else {
                lay.ranges[++w] = lay.ranges[k];
            }
        }
        lay.nranges = w + 1;
    }
}

/* An upper bound on the table pages build_tables() can use. */
static uint64_t table_budget(uint64_t kernel_span) {
    uint64_t n = 1 + 1 + 4; /* PML4; PDPT and 4 PDs for [0, 4 GiB) */
    for (unsigned i = 0; i < lay.nranges; i++) {
        uint64_t size = lay.ranges[i].end - lay.ranges[i].start;
        n += (size >> 39) + 2;
        n += lay.gbpages ? 2 : (size >> 30) + 2;
    }
    n += 2 + (kernel_span >> 21) + 2; /* kernel: PDPT, PD, page tables */
    n += 2 * 3;                       /* trampoline identity pages */
    return n + 4;
}

static const char *build_tables(struct pt_pool *pool, uint64_t pml4, const struct elf_image *img,
                                uint64_t kbase) {
    const char *why;
    for (uint64_t a = 0; a < (1ULL << 32); a += X86_PAGE_2M) {
        bool ram = lay.low_ram[(a >> 21) / 8] & (1U << ((a >> 21) % 8));
        uint64_t flags = X86_PTE_W | lay.nx | (ram ? 0 : X86_PTE_PCD | X86_PTE_PWT);
        why = pt_map(pool, pml4, KEEL_DIRECT_MAP_BASE + a, a, X86_PAGE_2M, X86_PAGE_2M, flags);
        if (why != NULL) {
            return why;
        }
    }
    for (unsigned i = 0; i < lay.nranges; i++) {
        uint64_t a = lay.ranges[i].start;
        uint64_t end = lay.ranges[i].end;
        if (end > KEEL_DIRECT_MAP_SIZE) {
            return "RAM beyond the 64 TiB direct map";
        }
        while (a < end) {
            uint64_t step = X86_PAGE_2M;
            if (lay.gbpages && (a & (X86_PAGE_1G - 1)) == 0 && end - a >= X86_PAGE_1G) {
                step = X86_PAGE_1G;
            }
            why = pt_map(pool, pml4, KEEL_DIRECT_MAP_BASE + a, a, step, step, X86_PTE_W | lay.nx);
            if (why != NULL) {
                return why;
            }
            a += step;
        }
    }
    for (unsigned i = 0; i < img->count; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t size = (s->memsz + PAGE - 1) & ~(PAGE - 1);
        uint64_t flags = (s->writable ? X86_PTE_W : 0) | (s->executable ? 0 : lay.nx);
        why = pt_map(pool, pml4, s->vaddr, kbase + (s->vaddr - img->vmin), size, PAGE, flags);
        if (why != NULL) {
            return why;
        }
    }
    uint64_t t0 = (uint64_t)(uintptr_t)keel_efi_trampoline_start & ~(PAGE - 1);
    uint64_t t1 = ((uint64_t)(uintptr_t)keel_efi_trampoline_end + PAGE - 1) & ~(PAGE - 1);
    return pt_map(pool, pml4, t0, t0, t1 - t0, PAGE, 0);
}

static void cpu_features(void) {
    uint32_t r[4];
    cpuid(0x80000000, r);
    lay.gbpages = false;
    lay.nx = 0;
    if (r[0] >= 0x80000001) {
        cpuid(0x80000001, r);
        lay.gbpages = (r[3] & (1U << 26)) != 0;
        lay.nx = (r[3] & (1U << 20)) ? X86_PTE_NX : 0;
    }
}

/* ---- main ------------------------------------------------------------------------- */

static void copy(void *dst, const void *src, uint64_t n) {
    BS->CopyMem(dst, (void *)src, (UINTN)n);
}

/* Allocate `pages` pages at a 2 MiB aligned address (the kernel may use 2 MiB pages). */
static EFI_STATUS alloc_aligned(uint64_t pages, uint64_t *out) {
    uint64_t extra = X86_PAGE_2M / PAGE;
    EFI_PHYSICAL_ADDRESS pa = 0;
    EFI_STATUS st = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, pages + extra, &pa);
    if (EFI_ERROR(st)) {
        return st;
    }
    uint64_t aligned = (pa + X86_PAGE_2M - 1) & ~(X86_PAGE_2M - 1);
    if (aligned > pa) {
        BS->FreePages(pa, (UINTN)((aligned - pa) / PAGE));
    }
    uint64_t end = pa + (pages + extra) * PAGE;
    uint64_t used_end = aligned + pages * PAGE;
    if (end > used_end) {
        BS->FreePages(used_end, (UINTN)((end - used_end) / PAGE));
    }
    *out = aligned;
    return EFI_SUCCESS;
}

static bool conout_serial_guess(void) {
    /* OVMF mirrors ConOut to the serial port; a bare-metal console does not. */
    const CHAR16 *v = ST->FirmwareVendor;
    const CHAR16 *edk = L"EDK II";
    for (unsigned i = 0; edk[i] != 0; i++) {
        if (v == NULL || v[i] != edk[i]) {
            return false;
        }
    }
    return have_debug_exit();
}

/*
 * The AP start-up trampoline (arch/x86_64/smp.c) begins in real mode, so it needs pages
 * below 1 MiB: its code and its own small page tables. Take them from the firmware now,
 * while boot services can still say where free low memory is; the kernel gets them as
 * MEM_KERNEL. Without them the kernel runs on the boot CPU alone.
 */
#define AP_TRAMPOLINE_PAGES 4
#define AP_TRAMPOLINE_MAX   0x9ffffULL /* highest byte: below the EBDA and the VGA hole */

static void reserve_ap_trampoline(struct boot_info *bi) {
    EFI_PHYSICAL_ADDRESS pa = AP_TRAMPOLINE_MAX;
    EFI_STATUS st = BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, AP_TRAMPOLINE_PAGES, &pa);
    if (EFI_ERROR(st)) {
        say("keel-efi: no free pages below 1 MiB: the other CPUs cannot be started\n");
        return;
    }
    BS->SetMem((void *)(uintptr_t)pa, (UINTN)(AP_TRAMPOLINE_PAGES * PAGE), 0);
    bi->ap_trampoline.pa = pa;
    bi->ap_trampoline_size = AP_TRAMPOLINE_PAGES * PAGE;
}

/*
 * The UEFI entry (called by gnu-efi's crt0 after relocation). Never returns on success:
 * it jumps to the kernel. Returns an EFI error after printing why on bad boot input.
 */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab) {
    InitializeLib(image, systab);
    conout_is_serial = conout_serial_guess();
    say("keel-efi: Keel loader\n");

    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (cr4 & (1ULL << 12)) {
        return fail(EFI_UNSUPPORTED, "5-level paging is on", "this loader builds 4-level tables");
    }
    cpu_features();

    EFI_LOADED_IMAGE *li = NULL;
    EFI_STATUS st = BS->HandleProtocol(image, &gEfiLoadedImageProtocolGuid, (void **)&li);
    if (EFI_ERROR(st)) {
        return fail(st, "no LoadedImage protocol", NULL);
    }
    EFI_FILE_HANDLE root = LibOpenRoot(li->DeviceHandle);
    if (root == NULL) {
        return fail(EFI_NOT_FOUND, "cannot open the boot volume", NULL);
    }

    struct blob kfile, initrd;
    st = read_file(root, L"keel\\kernel.elf", "keel/kernel.elf", KERNEL_FILE_MAX, &kfile);
    if (st == EFI_NOT_FOUND) {
        return fail(st, "keel/kernel.elf not found on the boot volume", NULL);
    }
    if (EFI_ERROR(st)) {
        return st;
    }
    static struct elf_image img;
    const char *why = elf_check(kfile.data, kfile.size, &img);
    if (why != NULL) {
        return fail(EFI_LOAD_ERROR, "keel/kernel.elf rejected", why);
    }
    static char cmdline[BOOT_CMDLINE_MAX];
    st = load_cmdline(root, cmdline);
    if (EFI_ERROR(st)) {
        return st;
    }
    st = read_file(root, L"keel\\initrd", "keel/initrd", ~0ULL, &initrd);
    if (EFI_ERROR(st) && st != EFI_NOT_FOUND) {
        return st;
    }

    /* One block: kernel image | boot_info + firmware name | page tables. */
    struct memmap mm;
    st = memmap_alloc(&mm);
    if (EFI_ERROR(st)) {
        return fail(st, "cannot read the UEFI memory map", NULL);
    }
    st = memmap_get(&mm);
    if (EFI_ERROR(st)) {
        return fail(st, "cannot read the UEFI memory map", NULL);
    }
    scan_memmap(&mm);
    uint64_t span = img.vmax - img.vmin;
    uint64_t bi_bytes = (sizeof(struct boot_info) + FIRMWARE_STR + PAGE - 1) & ~(PAGE - 1);
    uint64_t pt_pages = table_budget(span);
    uint64_t block_pages = span / PAGE + bi_bytes / PAGE + pt_pages;
    uint64_t kbase = 0;
    st = alloc_aligned(block_pages, &kbase);
    if (EFI_ERROR(st)) {
        return fail(st, "out of memory for the kernel", NULL);
    }
    BS->SetMem((void *)(uintptr_t)kbase, (UINTN)(block_pages * PAGE), 0);
    for (unsigned i = 0; i < img.count; i++) {
        const struct elf_segment *s = &img.seg[i];
        copy((void *)(uintptr_t)(kbase + (s->vaddr - img.vmin)), kfile.data + s->offset, s->filesz);
    }

    uint64_t bi_pa = kbase + span;
    struct boot_info *bi = (struct boot_info *)(uintptr_t)bi_pa;
    char *fw = (char *)(uintptr_t)(bi_pa + sizeof(*bi));
    firmware_name(fw);
    bi->firmware = (const char *)(uintptr_t)(KEEL_DIRECT_MAP_BASE + bi_pa + sizeof(*bi));
    copy(bi->cmdline, cmdline, sizeof(bi->cmdline));
    bi->initrd_base.pa = (uint64_t)(uintptr_t)initrd.data;
    bi->initrd_size = initrd.size;
    bi->acpi_rsdp.pa = find_rsdp();
    find_framebuffer(&bi->fb);
    bi->kernel_phys_base.pa = kbase;
    bi->kernel_size = block_pages * PAGE;
    if (bi->acpi_rsdp.pa == 0) {
        return fail(EFI_NOT_FOUND, "the firmware offers no ACPI tables", NULL);
    }
    reserve_ap_trampoline(bi);

    struct pt_pool pool = {bi_pa + bi_bytes, 0, pt_pages, lay.nx};
    uint64_t pml4 = pt_alloc(&pool);
    why = build_tables(&pool, pml4, &img, kbase);
    if (why != NULL) {
        return fail(EFI_OUT_OF_RESOURCES, "cannot build the kernel page tables", why);
    }

    say("keel-efi: kernel ");
    say_hex(kbase);
    say(" entry ");
    say_hex(img.entry);
    say(", cmdline \"");
    say(cmdline);
    say("\"\nkeel-efi: exiting boot services\n");

    /* From here to ExitBootServices: no allocation and no printing (the map key). */
    for (unsigned tries = 0;; tries++) {
        st = memmap_get(&mm);
        if (!EFI_ERROR(st)) {
            st = BS->ExitBootServices(image, mm.key);
        }
        if (!EFI_ERROR(st)) {
            break;
        }
        if (tries == 0 && st == EFI_BUFFER_TOO_SMALL) {
            return fail(st, "memory map grew past its buffer", NULL);
        }
        if (tries == 8) {
            com1_puts("keel-efi: error: ExitBootServices keeps failing\n");
            power_off_failed();
        }
    }

    /* Boot services are gone: fill the memory map and jump. */
    uint32_t cap = BOOT_MAX_MEM_REGIONS - 3; /* room for the kernel block, initrd, trampoline */
    for (UINTN i = 0; i < mm.size / mm.dsize; i++) {
        const EFI_MEMORY_DESCRIPTOR *d = DESC(&mm, i);
        add_region(bi, d->PhysicalStart, d->NumberOfPages * PAGE, efi_to_mem_type(d->Type), cap);
    }
    add_region(bi, kbase, block_pages * PAGE, MEM_KERNEL, BOOT_MAX_MEM_REGIONS);
    if (bi->ap_trampoline_size != 0) {
        add_region(bi, bi->ap_trampoline.pa, bi->ap_trampoline_size, MEM_KERNEL,
                   BOOT_MAX_MEM_REGIONS);
    }
    if (initrd.size != 0) {
        add_region(bi, bi->initrd_base.pa, (initrd.size + PAGE - 1) & ~(PAGE - 1), MEM_INITRD,
                   BOOT_MAX_MEM_REGIONS);
    }
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    bi->entry_cycles = ((uint64_t)hi << 32) | lo; /* the kernel overwrites it at entry */

    keel_efi_enter_kernel(pml4, KEEL_DIRECT_MAP_BASE + bi_pa, img.entry, X86_HANDOFF_MAGIC,
                          lay.nx != 0);
}
