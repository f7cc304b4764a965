// Countdown block: time left until `until`, ticking each second, stopping at zero.
/** @jsxRuntime classic */
/** @jsx h */
import { Component, h } from 'preact';

/** "2d 03:04:05", or "03:04:05" under a day; zero once past. */
export function formatLeft(ms: number): string {
  const s = Math.max(0, ms / 1000) | 0;
  // The time of day of `s` seconds after the epoch is the hh:mm:ss part of the duration.
  return (s < 86400 ? '' : ((s / 86400) | 0) + 'd ') + new Date(s * 1000).toISOString().slice(11, 19);
}

export class Countdown extends Component<{ until: string; label?: string }> {
  declare timer: ReturnType<typeof setInterval>;
  override componentDidMount() {
    this.timer = setInterval(() => this.forceUpdate(), 1000);
  }
  override componentWillUnmount() {
    clearInterval(this.timer);
  }
  render() {
    const { until, label } = this.props;
    // role=timer is not announced on every tick (implicit aria-live off); the label names it.
    return (
      <div>
        {label && <p>{label}</p>}
        <div class="cd" role="timer" aria-label={label}>
          {formatLeft(Date.parse(until) - Date.now())}
        </div>
      </div>
    );
  }
}
