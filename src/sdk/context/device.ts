// Device class from UA client hints or the user agent, plus the screen for big "mobiles".
import type { Device } from './types';

interface Nav {
  userAgent: string;
  maxTouchPoints?: number;
  userAgentData?: { mobile: boolean };
}

export function deviceOf(nav: Nav, screenShortSide: number): Device {
  const ua = nav.userAgent;
  // iPadOS says "Macintosh" but has a touch screen; Android tablets omit "Mobile".
  if (/iPad|Tablet|PlayBook|Silk|Kindle/i.test(ua) || (/Android/i.test(ua) && !/Mobi/i.test(ua)) || (/Macintosh/.test(ua) && (nav.maxTouchPoints as number) > 1)) {
    return 'tablet';
  }
  if ((nav.userAgentData && nav.userAgentData.mobile) || /Mobi|iPhone|iPod|BlackBerry|Opera Mini|IEMobile/i.test(ua)) {
    return screenShortSide >= 600 ? 'tablet' : 'mobile';
  }
  return 'desktop';
}
