/**
 * Fault injection options shared by the simulated peripherals. Each one reproduces something real
 * devices do (see ../../docs/simulators.md for which device honours which fault).
 */

export interface SimFaults {
  /** The device clock starts at 1970-01-01 (battery change, never set) or 2094-01-01 (bad RTC). */
  clock?: '1970' | '2094';
  /** The device clock runs this many minutes ahead (negative: behind) of true local time. */
  clockOffsetMinutes?: number;
  /** One-shot: the link is lost after this many delivered notifications/indications (then cleared). */
  disconnectAfterNotifications?: number | undefined;
  /** Measurement frames are cut short (last two bytes missing) or have every flag bit set. */
  frame?: 'truncate' | 'corrupt';
  /** The highest reserved (RFU) flag bit is set in measurement frames. */
  reservedFlags?: boolean;
  /** Stored readings already delivered are sent again (this many of the most recent ones). */
  resendOld?: number;
  /** Readings carry this household user index instead of the consented one (a second person). */
  householdUser?: number;
}
