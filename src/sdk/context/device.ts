// Device class from UA client hints or the user agent, plus the screen for big "mobiles".
import type { Device } from './types';

interface Nav {
  userAgent: string;
  maxTouchPoints?: number;
  userAgentData?: { mobile: boolean };
}

export const deviceOf = (nav: Nav, screenShortSide: number): Device =>
  // iPadOS says "Macintosh" but has a touch screen; Android tablets omit "Mobile" (anywhere: in-app
  // browsers such as Instagram's and Pinterest's name Android again after a phone's "Mobile").
  /iPad|Tablet|PlayBook|Silk|Kindle|^(?!.*Mobi).*Android/i.test(nav.userAgent) || (/Macintosh/.test(nav.userAgent) && nav.maxTouchPoints! > 1)
    ? 'tablet'
    : (nav.userAgentData && nav.userAgentData.mobile) || /Mobi|iPhone|iPod|BlackBerry|Opera Mini/i.test(nav.userAgent)
      ? screenShortSide < 600
        ? 'mobile'
        : 'tablet'
      : 'desktop';
