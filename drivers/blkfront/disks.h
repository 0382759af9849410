// The guest's disks: blkfront on Xen, started at boot. See docs/block.md.
#ifndef SKIFF_DRIVERS_BLKFRONT_DISKS_H_
#define SKIFF_DRIVERS_BLKFRONT_DISKS_H_

namespace skiff::blk {

// Follows device/vbd for disks attached now and later; waits for the ones there now to
// connect (a disk that fails says why on the console, and the boot goes on); gives each a
// /dev node. Nothing without xenstore (a PVH dom0).
void InitDisks();

}  // namespace skiff::blk

#endif  // SKIFF_DRIVERS_BLKFRONT_DISKS_H_
