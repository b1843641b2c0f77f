/* SPDX-License-Identifier: MIT */
/*
 * The portable page-table walker: one radix walk over PT_ENTRIES-entry tables, the
 * format's hooks doing all encoding. Changes to live entries follow break-before-make
 * (invalidate, flush, write), which AArch64 requires and the others tolerate. Tables
 * emptied by unmap stay until the space is destroyed or a large page replaces them.
 */
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/string.h>
#include <kernel/vm.h>
#include <kernel/vma.h>
#include <kernel/vmm.h>

struct vm_space *vmm_kernel_space;

#define HALF_INDEX (PT_ENTRIES / 2) /* root entries at and above this map the upper half */

static inline uint64_t *table_of(paddr_t pa) {
    return phys_to_virt(pa);
}

static inline uint64_t *entry_at(paddr_t table, unsigned level, uint64_t va) {
    return &table_of(table)[(va >> PT_LEVEL_SHIFT(level)) & (PT_ENTRIES - 1)];
}

static inline void set_entry(uint64_t *e, uint64_t v) {
    __atomic_store_n(e, v, __ATOMIC_RELEASE);
}

static void tlb_flush(struct vm_space *as, uint64_t va, uint64_t size) {
    if (as->tlb != NULL && as->tlb->flush != NULL) {
        as->tlb->flush(as, VADDR(va), size);
    }
}

static void tlb_sync(struct vm_space *as) {
    if (as->tlb != NULL && as->tlb->sync != NULL) {
        as->tlb->sync(as);
    }
}

static kstatus_t table_alloc(struct vm_space *as, paddr_t *out) {
    phys_frame_t f;
    if (allocate_frames(1, ZONE_NORMAL, &f) != KEEL_OK) {
        return KEEL_ENOMEM;
    }
    *out = frame_to_paddr(f);
    memset(table_of(*out), 0, PAGE_SIZE);
    as->table_pages++;
    return KEEL_OK;
}

static void table_free(struct vm_space *as, paddr_t pa) {
    if (free_frames(paddr_to_frame(pa), 1) == KEEL_OK) {
        as->table_pages--;
    }
}

/* Free the tables below table t at `level` (leaves are not followed), then t. */
static void free_subtree(struct vm_space *as, paddr_t t, unsigned level) {
    const struct pt_format *f = as->fmt;
    uint64_t *tbl = table_of(t);
    for (unsigned i = 0; level > 0 && i < PT_ENTRIES; i++) {
        if (f->kind(f, tbl[i], level) == PTE_TABLE) {
            free_subtree(as, f->addr(f, tbl[i], level), level - 1);
        }
    }
    table_free(as, t);
}

/* True when nothing below table t (at level) maps anything. */
static bool subtree_empty(const struct pt_format *f, paddr_t t, unsigned level) {
    const uint64_t *tbl = table_of(t);
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        enum pte_kind k = f->kind(f, tbl[i], level);
        if (k == PTE_LEAF ||
            (k == PTE_TABLE && !subtree_empty(f, f->addr(f, tbl[i], level), level - 1))) {
            return false;
        }
    }
    return true;
}

/* The entry that maps va: a leaf, or the invalid entry where the walk ended. */
static uint64_t *lookup(struct vm_space *as, uint64_t va, unsigned *level, enum pte_kind *kind) {
    const struct pt_format *f = as->fmt;
    paddr_t t = as->root;
    for (unsigned l = f->levels - 1;; l--) {
        uint64_t *e = entry_at(t, l, va);
        enum pte_kind k = f->kind(f, *e, l);
        if (k != PTE_TABLE || l == 0) {
            *level = l;
            *kind = k == PTE_TABLE ? PTE_INVALID : k;
            return e;
        }
        t = f->addr(f, *e, l);
    }
}

static uint64_t half_lo(const struct vm_space *as) {
    return as->kernel ? pt_kernel_base(as->fmt) : 0;
}

static uint64_t half_hi(const struct vm_space *as) /* last address of the half */
{
    return as->kernel ? ~0ULL : pt_user_top(as->fmt) - 1;
}

static kstatus_t check_range(const struct vm_space *as, uint64_t va, uint64_t size) {
    if (as == NULL || size == 0 || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE)) {
        return KEEL_EINVAL;
    }
    uint64_t last = va + size - 1;
    if (last < va || va < half_lo(as) || last > half_hi(as)) {
        return KEEL_EINVAL;
    }
    return KEEL_OK;
}

static kstatus_t check_flags(const struct vm_space *as, uint32_t flags) {
    if ((flags & ~VM_FLAGS_ALL) != 0 || !(flags & VM_READ) ||
        ((flags & VM_DEVICE) && (flags & VM_WC))) {
        return KEEL_EINVAL;
    }
    if (((flags & VM_WRITE) && (flags & VM_EXEC)) || ((flags & VM_DEVICE) && (flags & VM_EXEC))) {
        return KEEL_EPERM; /* W^X; device memory is never executable */
    }
    if (as->kernel ? (flags & VM_USER) != 0 : (flags & (VM_USER | VM_GLOBAL)) != VM_USER) {
        return KEEL_EINVAL;
    }
    return KEEL_OK;
}

kstatus_t vm_space_create(const struct pt_format *fmt, const struct vm_tlb_ops *tlb, bool kernel,
                          const struct vm_space *kernel_space, struct vm_space **out) {
    if (fmt == NULL || out == NULL || fmt->levels < 2 || fmt->levels > 5) {
        return KEEL_EINVAL;
    }
    struct vm_space *as = kmalloc(sizeof(*as), KMALLOC_ZERO);
    if (as == NULL) {
        return KEEL_ENOMEM;
    }
    as->fmt = fmt;
    as->tlb = tlb;
    as->kernel = kernel;
    spinlock_init(&as->lock);
    if (table_alloc(as, &as->root) != KEEL_OK) {
        kfree(as);
        return KEEL_ENOMEM;
    }
    if (!kernel && kernel_space != NULL && (fmt->features & PT_FEAT_SHARED_KERNEL_ROOT)) {
        const uint64_t *src = table_of(kernel_space->root);
        uint64_t *dst = table_of(as->root);
        for (unsigned i = HALF_INDEX; i < PT_ENTRIES; i++) {
            dst[i] = src[i];
        }
    }
    *out = as;
    return KEEL_OK;
}

void vm_space_destroy(struct vm_space *as) {
    if (as == NULL) {
        return;
    }
    const struct pt_format *f = as->fmt;
    unsigned top = f->levels - 1;
    uint64_t *root = table_of(as->root);
    /* With a shared root the other half's entries belong to the kernel space. */
    bool split = (f->features & PT_FEAT_SPLIT_ROOTS) != 0;
    unsigned lo = as->kernel && !split ? HALF_INDEX : 0;
    unsigned hi = as->kernel || split ? PT_ENTRIES : HALF_INDEX;
    for (unsigned i = lo; i < hi; i++) {
        if (f->kind(f, root[i], top) == PTE_TABLE) {
            free_subtree(as, f->addr(f, root[i], top), top - 1);
        }
    }
    table_free(as, as->root);
    while (as->vmas != NULL) {
        struct vm_area *v = as->vmas;
        as->vmas = v->next;
        v->space = NULL;
        kfree(v);
    }
    kfree(as);
}

/* Install one leaf at `level`; allocates tables on the way. */
static kstatus_t install(struct vm_space *as, uint64_t va, uint64_t pa, unsigned level,
                         uint32_t flags) {
    const struct pt_format *f = as->fmt;
    paddr_t t = as->root;
    for (unsigned l = f->levels - 1; l > level; l--) {
        uint64_t *e = entry_at(t, l, va);
        enum pte_kind k = f->kind(f, *e, l);
        if (k == PTE_LEAF) {
            return KEEL_EEXIST;
        }
        if (k == PTE_INVALID) {
            paddr_t nt;
            if (table_alloc(as, &nt) != KEEL_OK) {
                return KEEL_ENOMEM;
            }
            set_entry(e, f->make_table(f, nt, l));
        }
        t = f->addr(f, *e, l);
    }
    uint64_t *e = entry_at(t, level, va);
    enum pte_kind k = f->kind(f, *e, level);
    if (k == PTE_LEAF) {
        return KEEL_EEXIST;
    }
    if (k == PTE_TABLE) {
        /* Left over by unmap: reusable for a large page only if nothing is below it. */
        paddr_t sub = f->addr(f, *e, level);
        if (!subtree_empty(f, sub, level - 1)) {
            return KEEL_EEXIST;
        }
        set_entry(e, 0);
        tlb_flush(as, ALIGN_DOWN(va, PT_LEVEL_SIZE(level)), PT_LEVEL_SIZE(level));
        free_subtree(as, sub, level - 1);
    }
    set_entry(e, f->make_leaf(f, PADDR(pa), level, flags));
    return KEEL_OK;
}

static void unmap_range_locked(struct vm_space *as, uint64_t va, uint64_t end);

static kstatus_t map_locked(struct vm_space *as, uint64_t va, uint64_t pa, uint64_t size,
                            uint32_t flags, int only_level) {
    const struct pt_format *f = as->fmt;
    uint64_t done = 0;
    while (done < size) {
        unsigned level = 0;
        for (int l = 2; l >= 0; l--) {
            uint64_t ps = PT_LEVEL_SIZE(l);
            if ((only_level < 0 || only_level == l) && (f->leaf_mask & (1u << l)) &&
                (unsigned)l < f->levels && IS_ALIGNED(va + done, ps) && IS_ALIGNED(pa + done, ps) &&
                size - done >= ps) {
                level = (unsigned)l;
                break;
            }
        }
        kstatus_t st = install(as, va + done, pa + done, level, flags);
        if (st != KEEL_OK) {
            if (done > 0) {
                unmap_range_locked(as, va, va + done);
            }
            return st;
        }
        done += PT_LEVEL_SIZE(level);
    }
    tlb_sync(as);
    return KEEL_OK;
}

/* map_locked() under as->lock. Out of line so the lock's busy path (a call) finds the
 * arguments in call-preserved registers instead of costing each caller spills. */
static __noinline kstatus_t map_range(struct vm_space *as, uint64_t va, uint64_t pa, uint64_t size,
                                      uint32_t flags, int only_level) {
    unsigned long irq;
    vm_space_lock(as, &irq);
    kstatus_t st = map_locked(as, va, pa, size, flags, only_level);
    vm_space_unlock(as, irq);
    return st;
}

kstatus_t vmm_map(struct vm_space *as, vaddr_t va, paddr_t pa, uint64_t size, uint32_t flags) {
    kstatus_t st = check_range(as, va.va, size);
    if (st == KEEL_OK) {
        st = check_flags(as, flags);
    }
    if (st == KEEL_OK && !IS_ALIGNED(pa.pa, PAGE_SIZE)) {
        st = KEEL_EINVAL;
    }
    if (st != KEEL_OK) {
        return st;
    }
    return map_range(as, va.va, pa.pa, size, flags, -1);
}

kstatus_t vmm_map_page(struct vm_space *as, vaddr_t va, paddr_t pa, uint64_t page_size,
                       uint32_t flags) {
    int level = page_size == PT_LEVEL_SIZE(0)   ? 0
                : page_size == PT_LEVEL_SIZE(1) ? 1
                : page_size == PT_LEVEL_SIZE(2) ? 2
                                                : -1;
    kstatus_t st = level < 0 ? KEEL_EINVAL : check_range(as, va.va, page_size);
    if (st == KEEL_OK) {
        st = check_flags(as, flags);
    }
    if (st == KEEL_OK &&
        (!IS_ALIGNED(va.va, page_size) || !IS_ALIGNED(pa.pa, page_size) ||
         !(as->fmt->leaf_mask & (1u << level)) || (unsigned)level >= as->fmt->levels)) {
        st = KEEL_EINVAL;
    }
    if (st != KEEL_OK) {
        return st;
    }
    return map_range(as, va.va, pa.pa, page_size, flags, level);
}

/* Turn the large leaf *e at level (mapping base) into a table of next-level leaves. */
static kstatus_t split_leaf(struct vm_space *as, uint64_t *e, unsigned level, uint64_t base) {
    const struct pt_format *f = as->fmt;
    paddr_t t;
    if (table_alloc(as, &t) != KEEL_OK) {
        return KEEL_ENOMEM;
    }
    uint64_t pa = f->addr(f, *e, level).pa;
    uint32_t flags = f->flags(f, *e, level);
    uint64_t *tbl = table_of(t);
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        tbl[i] = f->make_leaf(f, PADDR(pa + i * PT_LEVEL_SIZE(level - 1)), level - 1, flags);
    }
    set_entry(e, 0);
    tlb_flush(as, base, PT_LEVEL_SIZE(level));
    set_entry(e, f->make_table(f, t, level));
    return KEEL_OK;
}

/* Split large pages until none straddles addr. */
static kstatus_t split_at(struct vm_space *as, uint64_t addr) {
    for (;;) {
        unsigned level;
        enum pte_kind k;
        uint64_t *e = lookup(as, addr, &level, &k);
        if (k != PTE_LEAF || IS_ALIGNED(addr, PT_LEVEL_SIZE(level))) {
            return KEEL_OK;
        }
        kstatus_t st = split_leaf(as, e, level, ALIGN_DOWN(addr, PT_LEVEL_SIZE(level)));
        if (st != KEEL_OK) {
            return st;
        }
    }
}

static kstatus_t split_edges(struct vm_space *as, uint64_t va, uint64_t end) {
    kstatus_t st = split_at(as, va);
    if (st == KEEL_OK && end != 0 && end - 1 < half_hi(as)) {
        st = split_at(as, end);
    }
    return st;
}

/* Remove every leaf in [va, end) (edges already split). end 0 means the top of memory. */
static void unmap_range_locked(struct vm_space *as, uint64_t va, uint64_t end) {
    uint64_t addr = va;
    while (addr - va < end - va) {
        unsigned level;
        enum pte_kind k;
        uint64_t *e = lookup(as, addr, &level, &k);
        uint64_t ps = PT_LEVEL_SIZE(level);
        if (k == PTE_LEAF) {
            set_entry(e, 0);
            tlb_flush(as, addr, ps);
        }
        uint64_t next = ALIGN_DOWN(addr, ps) + ps;
        if (next == 0) {
            break;
        }
        addr = next;
    }
}

kstatus_t vmm_unmap(struct vm_space *as, vaddr_t va, uint64_t size) {
    kstatus_t st = check_range(as, va.va, size);
    if (st != KEEL_OK) {
        return st;
    }
    unsigned long irq;
    vm_space_lock(as, &irq);
    st = split_edges(as, va.va, va.va + size);
    if (st == KEEL_OK) {
        unmap_range_locked(as, va.va, va.va + size);
    }
    vm_space_unlock(as, irq);
    return st;
}

kstatus_t vmm_unmap_page(struct vm_space *as, vaddr_t va, paddr_t *pa) {
    kstatus_t st = check_range(as, va.va, PAGE_SIZE);
    if (st != KEEL_OK) {
        return st;
    }
    unsigned long irq;
    vm_space_lock(as, &irq);
    unsigned level;
    enum pte_kind k;
    uint64_t *e = lookup(as, va.va, &level, &k);
    if (k != PTE_LEAF) {
        st = KEEL_ENOTFOUND;
    } else if (!IS_ALIGNED(va.va, PT_LEVEL_SIZE(level))) {
        st = KEEL_EINVAL;
    } else {
        if (pa != NULL) {
            *pa = as->fmt->addr(as->fmt, *e, level);
        }
        set_entry(e, 0);
        tlb_flush(as, va.va, PT_LEVEL_SIZE(level));
    }
    vm_space_unlock(as, irq);
    return st;
}

kstatus_t vmm_protect(struct vm_space *as, vaddr_t va, uint64_t size, uint32_t flags) {
    kstatus_t st = check_range(as, va.va, size);
    if (st == KEEL_OK) {
        st = check_flags(as, flags);
    }
    if (st != KEEL_OK) {
        return st;
    }
    const struct pt_format *f = as->fmt;
    uint64_t end = va.va + size;
    unsigned long irq;
    vm_space_lock(as, &irq);
    /* Decode: everything must be mapped. */
    for (uint64_t addr = va.va; addr - va.va < size;) {
        unsigned level;
        enum pte_kind k;
        (void)lookup(as, addr, &level, &k);
        if (k != PTE_LEAF) {
            st = KEEL_ENOTFOUND;
            goto out;
        }
        uint64_t next = ALIGN_DOWN(addr, PT_LEVEL_SIZE(level)) + PT_LEVEL_SIZE(level);
        if (next == 0) {
            break;
        }
        addr = next;
    }
    st = split_edges(as, va.va, end);
    if (st != KEEL_OK) {
        goto out;
    }
    for (uint64_t addr = va.va; addr - va.va < size;) {
        unsigned level;
        enum pte_kind k;
        uint64_t *e = lookup(as, addr, &level, &k);
        uint64_t ps = PT_LEVEL_SIZE(level);
        uint64_t n = f->make_leaf(f, f->addr(f, *e, level), level, flags);
        if (n != *e) {
            set_entry(e, 0);
            tlb_flush(as, addr, ps);
            set_entry(e, n);
        }
        if (addr + ps == 0) {
            break;
        }
        addr += ps;
    }
    tlb_sync(as);
out:
    vm_space_unlock(as, irq);
    return st;
}

/* vmm_query() with as->lock held. */
static kstatus_t query_locked(struct vm_space *as, vaddr_t va, paddr_t *pa, uint32_t *flags,
                              uint64_t *page_size) {
    const struct pt_format *f = as->fmt;
    unsigned level;
    enum pte_kind k;
    uint64_t *e = lookup(as, va.va, &level, &k);
    kstatus_t st = KEEL_ENOTFOUND;
    if (k == PTE_LEAF) {
        uint64_t ps = PT_LEVEL_SIZE(level);
        if (pa != NULL) {
            *pa = PADDR(f->addr(f, *e, level).pa + (va.va & (ps - 1)));
        }
        if (flags != NULL) {
            *flags = f->flags(f, *e, level);
        }
        if (page_size != NULL) {
            *page_size = ps;
        }
        st = KEEL_OK;
    }
    return st;
}

kstatus_t vmm_query(struct vm_space *as, vaddr_t va, paddr_t *pa, uint32_t *flags,
                    uint64_t *page_size) {
    if (as == NULL || va.va < half_lo(as) || va.va > half_hi(as)) {
        return KEEL_EINVAL;
    }
    unsigned long irq;
    vm_space_lock(as, &irq);
    kstatus_t st = query_locked(as, va, pa, flags, page_size);
    vm_space_unlock(as, irq);
    return st;
}

kstatus_t vmm_query_trylock(struct vm_space *as, vaddr_t va, paddr_t *pa, uint32_t *flags,
                            uint64_t *page_size) {
    if (as == NULL || va.va < half_lo(as) || va.va > half_hi(as)) {
        return KEEL_EINVAL;
    }
    unsigned long irq = arch_irq_save();
    if (!spin_trylock(&as->lock)) {
        arch_irq_restore(irq);
        return KEEL_EBUSY;
    }
    kstatus_t st = query_locked(as, va, pa, flags, page_size);
    spin_unlock(&as->lock);
    arch_irq_restore(irq);
    return st;
}

kstatus_t vm_space_preallocate(struct vm_space *as, vaddr_t va, uint64_t size) {
    kstatus_t st = check_range(as, va.va, size);
    if (st != KEEL_OK) {
        return st;
    }
    const struct pt_format *f = as->fmt;
    unsigned top = f->levels - 1;
    uint64_t step = PT_LEVEL_SIZE(top);
    unsigned long irq;
    vm_space_lock(as, &irq);
    for (uint64_t addr = ALIGN_DOWN(va.va, step); addr - va.va < size || addr < va.va;) {
        uint64_t *e = entry_at(as->root, top, addr);
        if (f->kind(f, *e, top) == PTE_INVALID) {
            paddr_t t;
            if (table_alloc(as, &t) != KEEL_OK) {
                st = KEEL_ENOMEM;
                break;
            }
            set_entry(e, f->make_table(f, t, top));
        }
        if (addr + step == 0) {
            break;
        }
        addr += step;
    }
    tlb_sync(as);
    vm_space_unlock(as, irq);
    return st;
}
