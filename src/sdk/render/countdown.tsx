// Countdown block: time left until `until`, ticking each second, stopping at zero.
import { Component } from 'preact';

const pad = (n: number) => (n < 10 ? '0' : '') + n;

/** "2d 03:04:05", or "03:04:05" under a day. */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  return (d ? d + 'd ' : '') + [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map(pad).join(':');
}

export class Countdown extends Component<{ until: string; label?: string }> {
  timer = 0;
  override componentDidMount() {
    this.timer = setInterval(() => (Date.parse(this.props.until) <= Date.now() ? clearInterval(this.timer) : this.forceUpdate()), 1000) as unknown as number;
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
